/**
 * Chaos scenario 5, secrets: harvests by workers that log in with a DESP password and OTP, with a
 * DEDL client secret, and with a wrong password; orders whose source uses a DESP credential set
 * (a right and a wrong password); PRIVATE output and an s3:// sink using S3 keys. Every value is
 * distinctive, and none may appear in the full history of any workflow (as
 * `temporal workflow show --output json` prints it, payloads decoded too), in the workers' logs
 * (JSON lines on the stderr of real `dedl-harvest worker` processes, at DEBUG), in the output of
 * our CLI, or in any error message.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { TEMPORAL_CLI, ensureTool } from '../../src/devstack/tools';
import { type EmulatorHandle, startEmulator } from '../../src/emulator';
import type { HarvestReport } from '../../src/shared/harvest-report';
import type { HarvestRequestInput } from '../../src/shared/harvest-request';
import { catalogueIdentifiers, request } from '../helpers/harvest-env';
import { createTestBucket, stackS3Client } from '../helpers/s3';
import { testStack } from '../helpers/stack';
import { cli, scratchDir } from '../e2e/cli-helpers';
import { recordChaosRow, secretsIn } from './chaos-record';

const run = promisify(execFile);
const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';
const WORKER_PASSWORD = 'Worker-Pw-7f3a9c51';
const OTP_SECRET = 'KRUGKU3FMNZGK5CPKRIA'; // base32 of "TheSecretOTP"
const CLIENT_SECRET = 'Client-Secret-5d1e77a0';
const SOURCE_PASSWORD = 'Source-Pw-2b8e41d9';
const WRONG_PASSWORD = 'Wrong-Pw-c0ffee42';

interface WorkerProcess {
  taskQueue: string;
  child: ChildProcess;
  logs(): string;
}

/** Base64 payload data in history JSON, decoded in place (so a secret inside a payload is visible). */
function withDecodedPayloads(json: string): string {
  return json.replace(/"data":\s*"([A-Za-z0-9+/=]+)"/g, (_, b64: string) =>
    Buffer.from(b64, 'base64').toString('utf8'),
  );
}

/** Every message of an error's cause chain. */
function messagesOf(err: unknown): string {
  const out: string[] = [];
  for (let current: unknown = err; current instanceof Error; current = current.cause) {
    out.push(`${current.name}: ${current.message}`, JSON.stringify((current as { details?: unknown }).details ?? null));
  }
  return out.join('\n');
}

describe('chaos: no secret in histories, worker logs, CLI output or errors', () => {
  let emulator: EmulatorHandle;
  let connection: Connection;
  let client: Client;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let temporal: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({
      timing: { queuedMs: 10, processingMs: 30 },
      productSize: 50_000,
      includeDefaultAccount: false,
      accounts: [
        { username: 'harvest-bot', password: WORKER_PASSWORD, otpSecret: OTP_SECRET },
        { username: 'source-user', password: SOURCE_PASSWORD },
      ],
      serviceAccounts: [{ clientId: 'svc-harvester', clientSecret: CLIENT_SECRET }],
    });
    connection = await Connection.connect({ address: testStack().temporal.address });
    client = new Client({ connection, namespace: testStack().temporal.namespace });
    scratch = await scratchDir('secrets');
    temporal = await ensureTool(TEMPORAL_CLI);
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(
      workers.map((w) => (w.child.exitCode === null ? new Promise((r) => w.child.once('exit', r)) : 0)),
    );
    await connection?.close();
    await emulator?.close();
    await scratch?.cleanup();
  });

  /** The environment every worker gets: its login (per worker) plus the credential sets requests name. */
  function workerEnv(taskQueue: string, login: Record<string, string>): NodeJS.ProcessEnv {
    const { temporal: t, s3 } = testStack();
    return {
      PATH: process.env.PATH,
      TEMPORAL_ADDRESS: t.address,
      TEMPORAL_NAMESPACE: t.namespace,
      DEDL_TASK_QUEUE: taskQueue,
      HOOK_BASE_URL: emulator.url,
      // The run's prebuilt bundle (bundling in each worker would cost a minute on a busy machine).
      DEDL_WORKFLOW_BUNDLE: testStack().workflowBundle,
      DEDL_SHUTDOWN_GRACE_TIME: '1s',
      LOG_LEVEL: 'DEBUG',
      DEDL_CREDENTIALS_SOURCE_USERNAME: 'source-user',
      DEDL_CREDENTIALS_SOURCE_PASSWORD: SOURCE_PASSWORD,
      DEDL_CREDENTIALS_BADSOURCE_USERNAME: 'source-user',
      DEDL_CREDENTIALS_BADSOURCE_PASSWORD: WRONG_PASSWORD,
      DEDL_CREDENTIALS_LOCAL_ACCESS_KEY_ID: s3.accessKeyId,
      DEDL_CREDENTIALS_LOCAL_SECRET_ACCESS_KEY: s3.secretAccessKey,
      DEDL_CREDENTIALS_LOCAL_ENDPOINT: s3.endpoint,
      DEDL_CREDENTIALS_LOCAL_REGION: s3.region,
      ...login,
    };
  }

  /** A real `dedl-harvest worker` process; resolves once it says it is ready. */
  async function startWorker(label: string, login: Record<string, string>): Promise<WorkerProcess> {
    const taskQueue = `secrets-${label}-${randomUUID().slice(0, 8)}`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, '../fixtures/cli-main.ts'), 'worker'],
      { env: workerEnv(taskQueue, login), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const chunks: string[] = [];
    child.stdout!.on('data', (d: Buffer) => chunks.push(d.toString('utf8')));
    const worker = { taskQueue, child, logs: () => chunks.join('') };
    workers.push(worker);
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        chunks.push(d.toString('utf8'));
        if (worker.logs().includes('dedl-harvest worker ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`worker ${label} exited (${code}):\n${worker.logs()}`)));
    });
    return worker;
  }

  it('holds for DESP+OTP, client-credentials and wrong-password workers, DESP sources, PRIVATE and S3 output', async () => {
    const { s3: stackS3 } = testStack();
    const secrets = [
      WORKER_PASSWORD,
      OTP_SECRET,
      CLIENT_SECRET,
      SOURCE_PASSWORD,
      WRONG_PASSWORD,
      stackS3.secretAccessKey,
      stackS3.accessKeyId,
    ];
    const [desp, service, wrong] = await Promise.all([
      startWorker('desp', {
        HOOK_AUTH: 'desp',
        DESP_USERNAME: 'harvest-bot',
        DESP_PASSWORD: WORKER_PASSWORD,
        DESP_OTP_SECRET: OTP_SECRET,
      }),
      startWorker('client', {
        HOOK_AUTH: 'client-credentials',
        DEDL_CLIENT_ID: 'svc-harvester',
        DEDL_CLIENT_SECRET: CLIENT_SECRET,
      }),
      startWorker('wrong', { HOOK_AUTH: 'desp', DESP_USERNAME: 'harvest-bot', DESP_PASSWORD: WRONG_PASSWORD }),
    ]);
    const s3 = stackS3Client();
    const bucket = await createTestBucket(s3, 'secrets');
    s3.destroy();
    const identifiers = catalogueIdentifiers(emulator, COLLECTION, 2);
    const sink = (name: string) => pathToFileURL(path.join(scratch.dir, name)).toString();
    const runs: { worker: WorkerProcess; input: HarvestRequestInput; outcome: HarvestReport['outcome'] | 'error' }[] = [
      {
        worker: desp,
        input: request({
          identifiers,
          source: { type: 'DESP', credentials: 'source' },
          output: { storage: 'TEMPORARY', sink: sink('temporary') },
        }),
        outcome: 'delivered',
      },
      {
        worker: desp,
        input: request({
          identifiers,
          source: { type: 'DESP', credentials: 'source' },
          output: {
            storage: 'PRIVATE',
            target: `s3://${bucket}/private`,
            endpoint: stackS3.endpoint,
            credentials: 'local',
          },
        }),
        outcome: 'delivered',
      },
      {
        worker: desp,
        input: request({
          identifiers,
          source: { type: 'DESP', credentials: 'source' },
          output: { storage: 'TEMPORARY', sink: `s3://${bucket}/sink`, sinkCredentials: 'local' },
        }),
        outcome: 'delivered',
      },
      {
        worker: desp,
        input: request({
          identifiers,
          source: { type: 'DESP', credentials: 'badsource' },
          output: { storage: 'TEMPORARY', sink: sink('badsource') },
        }),
        outcome: 'failed',
      },
      {
        worker: service,
        input: request({
          identifiers,
          source: { type: 'DESP', credentials: 'source' },
          output: { storage: 'TEMPORARY', sink: sink('service') },
        }),
        outcome: 'delivered',
      },
      {
        worker: wrong,
        input: request({ identifiers, output: { storage: 'TEMPORARY', sink: sink('wrong') } }),
        outcome: 'error',
      },
    ];

    const seen: { where: string; text: string }[] = [];
    const workflowIds: string[] = [];
    let products = 0;
    for (const [i, r] of runs.entries()) {
      const workflowId = `secrets-${i}-${randomUUID().slice(0, 8)}`;
      workflowIds.push(workflowId);
      const outcome = await client.workflow
        .execute('harvest', { taskQueue: r.worker.taskQueue, workflowId, args: [r.input] })
        .then(
          (report: HarvestReport) => {
            products += report.totals.delivered;
            seen.push({ where: `${workflowId} report`, text: JSON.stringify(report) });
            return report.outcome === r.outcome ? report.outcome : JSON.stringify(report.items);
          },
          (err: unknown) => {
            expect(err).toBeInstanceOf(WorkflowFailedError);
            seen.push({ where: `${workflowId} error`, text: messagesOf(err) });
            return 'error' as const;
          },
        );
      expect({ run: i, outcome }).toEqual({ run: i, outcome: r.outcome });
    }

    // Our CLI, given the same secrets in its environment, on a harvest that fails at login.
    const file = await scratch.write('wrong.json', runs[5]!.input);
    const { temporal: t } = testStack();
    const cliRun = await cli(
      ['run', file],
      {
        ...workerEnv(wrong.taskQueue, { DESP_PASSWORD: WRONG_PASSWORD, DEDL_CLIENT_SECRET: CLIENT_SECRET }),
        TEMPORAL_ADDRESS: t.address,
      },
      scratch.dir,
    );
    expect(cliRun.code).toBe(1);
    seen.push({ where: 'CLI output', text: cliRun.stdout + cliRun.stderr });
    const cliId = /workflow (harvest-\S+)/.exec(cliRun.stdout)![1]!;
    workflowIds.push(cliId);

    for (const workflowId of workflowIds) {
      const { stdout } = await run(
        temporal,
        ['workflow', 'show', '-w', workflowId, '--output', 'json', '--address', t.address, '--namespace', t.namespace],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      expect(stdout).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_');
      seen.push(
        { where: `${workflowId} history`, text: stdout },
        { where: `${workflowId} payloads`, text: withDecodedPayloads(stdout) },
      );
    }
    for (const w of workers) {
      w.child.kill('SIGTERM');
      if (w.child.exitCode === null) await new Promise((resolve) => w.child.once('exit', resolve));
      expect(w.logs().includes('"message":"Activity started"')).toBe(true);
      seen.push({ where: `worker ${w.taskQueue} logs`, text: w.logs() });
    }
    // The wrong password was tried, and said so, without being repeated.
    expect(wrong.logs()).toMatch(/HookAuthError|401|invalid_grant|credentials/i);

    const found = secretsIn(secrets, seen);
    recordChaosRow({
      scenario: 'secrets',
      runs: workflowIds.length,
      injected: '1 wrong worker password, 1 wrong source password',
      products,
      // This scenario looks for secrets; its products and sinks are not audited (— in the table).
      lost: null,
      duplicated: null,
      corruptAccepted: null,
      secretsFound: found.length,
      leftBehind: null,
    });
    expect(found).toEqual([]);
  });
});
