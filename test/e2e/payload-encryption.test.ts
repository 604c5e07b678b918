/**
 * Payload encryption end to end: a worker with DEDL_PAYLOAD_KEYS runs a delivered harvest, a
 * refused one (a workflow failure) and one whose source login fails (activity failures). Their
 * history, as `temporal workflow show --output json` prints it, holds no identifier, request name
 * or failure message, not even base64-encoded (search attributes apart: the server indexes them,
 * so they are never encrypted); through our codec server
 * (`--codec-endpoint`) the same history is readable. Our CLI's `result` reads the report with the
 * key (and after a key rotation); without the key it is refused with a clear message.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { request as http } from 'undici';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { type CodecServerHandle, startCodecServer } from '../../src/codec/codec-server';
import { parsePayloadKeys } from '../../src/codec/payload-keys';
import { TEMPORAL_CLI, ensureTool } from '../../src/devstack/tools';
import type { HarvestReport } from '../../src/shared/harvest-report';
import { type HarvestEnv, catalogueIdentifiers, request, startHarvestEnv } from '../helpers/harvest-env';
import { testStack } from '../helpers/stack';
import { cli, scratchDir } from './cli-helpers';

const run = promisify(execFile);
const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('base64');
const KEYS = `k1:${OLD_KEY}`;
const NAME = 'Gotland coastline survey';

/**
 * History JSON, search attributes removed, with every base64-looking value followed by its decoded
 * text, so nothing hides in base64. Search attributes are indexed by the server and so never
 * encrypted (src/shared/search-attributes.ts keeps secrets out of them); they are checked apart.
 */
function readable(historyJson: string): string {
  const withoutSearchAttributes = JSON.stringify(
    JSON.parse(historyJson),
    (key, value: unknown) => (key === 'searchAttributes' ? undefined : value),
    1,
  );
  return withoutSearchAttributes.replace(/: "([A-Za-z0-9+/]{4,}={0,2})"/g, (whole, b64: string) => {
    return `${whole} ${Buffer.from(b64, 'base64').toString('utf8')}`;
  });
}

describe('payload encryption', () => {
  let env: HarvestEnv;
  let temporal: string;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let codecServer: CodecServerHandle;
  let identifier: string;
  const outcomes: Record<string, unknown> = {};
  const stamp = Date.now();
  const ids = {
    delivered: `encrypted-delivered-${stamp}`,
    refused: `encrypted-refused-${stamp}`,
    linkExpired: `encrypted-expired-${stamp}`,
  };
  /** Plain text each history holds without encryption: request data, results, failure messages. */
  const plainText = () => ({
    [ids.delivered]: [identifier, NAME],
    [ids.refused]: [NAME, 'Invalid harvest request', 'must list at least one identifier'],
    [ids.linkExpired]: [identifier, NAME, 'signed download link was refused'],
  });

  async function workflowShow(workflowId: string, extra: string[] = []): Promise<string> {
    const { address } = testStack().temporal;
    const args = ['workflow', 'show', '--output', 'json', '--workflow-id', workflowId, '--address', address];
    const { stdout } = await run(temporal, [...args, ...extra], {
      env: { PATH: process.env.PATH, HOME: scratch.dir },
      timeout: 30_000,
    });
    return stdout;
  }

  const cliEnv = (keys?: string): NodeJS.ProcessEnv => ({
    TEMPORAL_ADDRESS: testStack().temporal.address,
    TEMPORAL_NAMESPACE: testStack().temporal.namespace,
    ...(keys ? { DEDL_PAYLOAD_KEYS: keys } : {}),
  });

  beforeAll(async () => {
    [temporal, scratch] = await Promise.all([ensureTool(TEMPORAL_CLI), scratchDir('encryption')]);
    env = await startHarvestEnv(
      { timing: { queuedMs: 10, processingMs: 30 }, productSize: 40_000 },
      { DEDL_PAYLOAD_KEYS: KEYS },
    );
    codecServer = await startCodecServer({ keys: parsePayloadKeys(KEYS), port: 0 });
    [identifier] = catalogueIdentifiers(env.emulator, COLLECTION, 1) as [string];
    const output = { storage: 'TEMPORARY' as const, sink: env.sinkUrl };
    const start = (workflowId: string, identifiers: string[]) =>
      env.client.workflow.start('harvest', {
        taskQueue: env.taskQueue,
        workflowId,
        args: [request({ name: NAME, identifiers, output })],
      });

    outcomes.delivered = ((await (await start(ids.delivered, [identifier])).result()) as HarvestReport).outcome;
    // A workflow failure (converted inside the workflow bundle).
    outcomes.refused = await (await start(ids.refused, [])).result().then(
      () => 'completed',
      (err: unknown) => (err instanceof WorkflowFailedError ? 'failed' : String(err)),
    );
    // An activity failure: every download link is refused from now on, and that is not retried.
    const faults = await http(`${env.emulator.adminUrl}/faults`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ linksExpireAfterMs: 0 }),
    });
    await faults.body.dump();
    outcomes.faults = faults.statusCode;
    const expired = (await (await start(ids.linkExpired, [identifier])).result()) as HarvestReport;
    outcomes.linkExpired = expired.items[0]?.state;
  });
  afterAll(async () => {
    await codecServer?.close();
    await env?.close();
    await scratch?.cleanup();
  });

  it('ran a delivered harvest, a refused one and one whose download failed', () => {
    expect(outcomes).toEqual({ delivered: 'delivered', refused: 'failed', faults: 200, linkExpired: 'failed' });
  });

  it('leaves no plain text in history: temporal workflow show without the codec', async () => {
    for (const [workflowId, texts] of Object.entries(plainText())) {
      const shown = readable(await workflowShow(workflowId));
      expect(shown).toContain('binary/encrypted');
      for (const text of texts) expect(shown).not.toContain(text);
    }
    for (const workflowId of [ids.refused, ids.linkExpired]) {
      expect(await workflowShow(workflowId)).toContain('"message": "Encoded failure"');
    }
    // The request name is also a search attribute (HarvestName), which no codec can encrypt.
    const nameAttribute = `"data": "${Buffer.from(JSON.stringify(NAME)).toString('base64')}"`;
    expect(await workflowShow(ids.delivered)).toContain(nameAttribute);
    expect(await workflowShow(ids.linkExpired)).toContain('EVENT_TYPE_ACTIVITY_TASK_FAILED');
  });

  it('is readable through our codec server: temporal workflow show --codec-endpoint', async () => {
    for (const [workflowId, texts] of Object.entries(plainText())) {
      const shown = readable(await workflowShow(workflowId, ['--codec-endpoint', codecServer.url]));
      expect(shown).not.toContain('binary/encrypted');
      for (const text of texts) expect(shown).toContain(text);
    }
  });

  it('a codec server with a token serves temporal --codec-auth, and nothing without it', async () => {
    const token = randomBytes(24).toString('hex');
    const guarded = await startCodecServer({ keys: parsePayloadKeys(KEYS), port: 0, token });
    try {
      const [workflowId, texts] = Object.entries(plainText())[0]!;
      const args = ['--codec-endpoint', guarded.url];
      const shown = readable(await workflowShow(workflowId, [...args, '--codec-auth', `Bearer ${token}`]));
      for (const text of texts) expect(shown).toContain(text);
      // The CLI keeps retrying a refusing codec until its deadline: keep that short.
      const refused = await workflowShow(workflowId, [...args, '--command-timeout', '3s']).catch(
        (err: { stdout?: string; stderr?: string }) => {
          return `${err.stdout ?? ''}${err.stderr ?? ''}`;
        },
      );
      // Either the CLI stops with the codec's refusal or it shows the payloads still encrypted.
      const refusedText = refused.trimStart().startsWith('{') ? readable(refused) : refused;
      expect(refusedText.length).toBeGreaterThan(0);
      for (const text of texts) expect(refusedText).not.toContain(text);
    } finally {
      await guarded.close();
    }
  });

  it('dedl-harvest result reads the report with the key, also after a key rotation', async () => {
    for (const keys of [KEYS, `k2:${NEW_KEY},k1:${OLD_KEY}`]) {
      const result = await cli(['result', ids.delivered, '--json'], cliEnv(keys), scratch.dir);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(identifier);
    }
    const refused = await cli(['result', ids.refused], cliEnv(KEYS), scratch.dir);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('must list at least one identifier');
  });

  it('a client without the key cannot read the result', async () => {
    const none = await cli(['result', ids.delivered, '--json'], cliEnv(), scratch.dir);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('this data is encrypted (key id \\"k1\\"); set DEDL_PAYLOAD_KEYS');
    expect(none.stdout).not.toContain(identifier);

    const wrong = await cli(['result', ids.delivered], cliEnv(`k2:${NEW_KEY}`), scratch.dir);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('encrypted with key id "k1": that key id is not in DEDL_PAYLOAD_KEYS');
    for (const key of [OLD_KEY, NEW_KEY]) expect(wrong.stdout + wrong.stderr).not.toContain(key);

    const connection = await Connection.connect({ address: testStack().temporal.address });
    try {
      const plainClient = new Client({ connection, namespace: testStack().temporal.namespace });
      await expect(plainClient.workflow.getHandle(ids.delivered).result()).rejects.toThrow(/binary\/encrypted/);
    } finally {
      await connection.close();
    }
  });
});
