/**
 * Chaos scenario 4, bad input: every invalid harvest and campaign input of the shared table goes in
 * three ways — our CLI, the client API, and the plain `temporal workflow start` — against one real
 * worker. Each is refused with a message naming the field: the CLI exits 2, the client API throws
 * before starting anything (or, for what only the worker can know, the workflow fails), and a
 * workflow started by the Temporal CLI fails quickly with a non-retryable InvalidRequest (it must
 * not retry a failing workflow task forever). Throughout, the emulator sees no order, and the
 * only workflows that exist are the ones the worker had to refuse.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { type CampaignRequestError, startCampaign } from '../../src/client/campaign-api';
import type { InvalidRequestError } from '../../src/client/errors';
import { EXIT } from '../../src/client/exit-codes';
import { resolveSinks } from '../../src/client/request-input';
import { startHarvest } from '../../src/client/start-harvest';
import { TEMPORAL_CLI, ensureTool } from '../../src/devstack/tools';
import type { CampaignRequestInput } from '../../src/shared/campaign-request';
import type { HarvestRequestInput } from '../../src/shared/harvest-request';
import { type CampaignEnv, startCampaignEnv, until } from '../helpers/campaign-env';
import { CASES, type InvalidCase, PASTED_SECRET, caseFile } from '../helpers/invalid-inputs';
import { testStack } from '../helpers/stack';
import { cli, emulatorStats, scratchDir } from '../e2e/cli-helpers';
import { recordChaosRow, secretsIn } from './chaos-record';

const run = promisify(execFile);
/** Temporal CLI processes at once: enough to be quick, few enough for a 2-core machine. */
const BATCH = 6;
/** How long a refused workflow may take to fail; a workflow task failing forever would never end. */
const FAIL_WITHIN_MS = 30_000;

/** The refusal's problems, one `field: message` per line, from the failure chain of a workflow. */
function invalidRequestProblems(err: unknown): string[] {
  for (let current: unknown = err; current instanceof Error; current = current.cause) {
    if (current instanceof ApplicationFailure && current.type === 'InvalidRequest') {
      expect(current.nonRetryable).toBe(true);
      const [problems] = (current.details ?? []) as [string[]];
      // The message, which `temporal workflow show` prints, lists the same problems.
      for (const problem of problems) expect(current.message).toContain(problem);
      return problems;
    }
  }
  throw new Error(`not an InvalidRequest failure: ${String(err)}`);
}

function expectNamed(problems: readonly string[], c: InvalidCase): void {
  const naming = problems.filter((p) => p.startsWith(`${c.field}: `));
  expect({ kind: c.kind, naming: naming.length > 0 && naming.join('\n').includes(c.says) }).toEqual({
    kind: c.kind,
    naming: true,
  });
}

describe('chaos: bad input is refused by the CLI, the client API and the workflows', () => {
  let env: CampaignEnv;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let cliEnv: NodeJS.ProcessEnv;
  let temporal: string;
  /** Workflow ids that had to start (the worker refuses them), by the way they came. */
  const started = new Set<string>();
  /** Everything a refusal said (CLI output, error messages and details), scanned for the pasted secret. */
  const said: { where: string; text: string }[] = [];
  const sayErrors = (where: string, err: unknown) => {
    for (let current: unknown = err; current instanceof Error; current = current.cause) {
      const details =
        (current as { details?: unknown; problems?: unknown }).details ?? (current as { problems?: unknown }).problems;
      said.push({ where, text: `${current.message}\n${JSON.stringify(details ?? null)}` });
    }
  };
  const runId = Date.now().toString(36);

  /** The input as our CLI would send it: local sinks made absolute. */
  const resolved = (c: InvalidCase) => resolveSinks(c.input, scratch.dir);

  /**
   * The problems the client API reports: thrown by the start call for what the schema refuses;
   * for what only the worker knows, the workflow starts (and is remembered) and fails.
   */
  async function refusal(c: InvalidCase, workflowId: string, start: () => Promise<unknown>): Promise<string[]> {
    if (c.by === 'schema') {
      const err = await start().then(
        () => new Error(`${c.kind}: started a workflow`),
        (e: unknown) => e as InvalidRequestError | CampaignRequestError,
      );
      if (!('problems' in err)) throw err;
      sayErrors(`client API: ${c.kind}`, err);
      return err.problems;
    }
    await start();
    started.add(workflowId);
    const failure = await env.client.workflow
      .getHandle(workflowId)
      .result()
      .then(
        () => new Error(`${c.kind}: the workflow completed`),
        (e: unknown) => e,
      );
    if (!(failure instanceof WorkflowFailedError)) throw failure;
    sayErrors(`client API: ${c.kind}`, failure);
    return invalidRequestProblems(failure);
  }

  beforeAll(async () => {
    env = await startCampaignEnv({ timing: { queuedMs: 50, processingMs: 150 } });
    scratch = await scratchDir('bad-input');
    temporal = await ensureTool(TEMPORAL_CLI);
    const { address, namespace } = testStack().temporal;
    cliEnv = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DEDL_TASK_QUEUE: env.taskQueue };
  });
  afterAll(async () => {
    await env?.close();
    await scratch?.cleanup();
  });

  it('covers at least 30 kinds: harvests and campaigns, schema and worker checks', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CASES.map((c) => c.kind)).size).toBe(CASES.length);
    expect(CASES.filter((c) => c.type === 'harvestCampaign').length).toBeGreaterThanOrEqual(8);
    expect(CASES.filter((c) => c.by === 'worker').length).toBeGreaterThanOrEqual(5);
  });

  it('our CLI: exit 2 with a problem line naming the field, no stack trace', async () => {
    for (const c of CASES) {
      const file = await scratch.write(caseFile(c), c.input);
      // A campaign's worker-side check runs in its dry run, which answers at once; `start` would return before it.
      const argv = c.type === 'harvest' ? ['run', file] : ['campaign', c.by === 'schema' ? 'start' : 'plan', file];
      const result = await cli(argv, cliEnv, scratch.dir);
      said.push({ where: `CLI: ${c.kind}`, text: `${result.stdout}\n${result.stderr}` });
      expect({ kind: c.kind, code: result.code }).toEqual({ kind: c.kind, code: EXIT.INVALID });
      const problems = result.stderr
        .split('\n')
        .filter((l) => l.startsWith('  - '))
        .map((l) => l.slice(4));
      expectNamed(problems, c);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      if (c.type === 'harvest' && c.by === 'worker') {
        started.add(/workflow (harvest-invalid-case-[0-9a-f]{6})/.exec(result.stdout)![1]!);
      }
      // A refused dry run prints no plan.
      expect(c.type === 'harvestCampaign' ? result.stdout : '').toBe('');
    }
    expect((await emulatorStats(env.emulator.adminUrl)).ordersCreated).toBe(0);
  });

  it('the client API: throws naming the field before starting; what only the worker knows fails the workflow', async () => {
    for (const c of CASES) {
      const workflowId = `bad-input-api-${runId}-${caseFile(c).replace('.json', '')}`;
      const start =
        c.type === 'harvest'
          ? () => startHarvest(env.client, resolved(c) as HarvestRequestInput, { workflowId, taskQueue: env.taskQueue })
          : () =>
              startCampaign(env.client, resolved(c) as CampaignRequestInput, { workflowId, taskQueue: env.taskQueue });
      expectNamed(await refusal(c, workflowId, start), c);
    }
    expect((await emulatorStats(env.emulator.adminUrl)).ordersCreated).toBe(0);
  });

  it('`temporal workflow start`: each workflow fails quickly with a non-retryable InvalidRequest naming the field', async () => {
    const { address, namespace } = testStack().temporal;
    const one = async (c: InvalidCase) => {
      const workflowId = `bad-input-cli-${runId}-${caseFile(c).replace('.json', '')}`;
      const file = await scratch.write(`temporal-${caseFile(c)}`, resolved(c));
      const startedBy = await run(temporal, [
        'workflow',
        'start',
        ...['--type', c.type, '--task-queue', env.taskQueue, '--workflow-id', workflowId, '--input-file', file],
        ...['--address', address, '--namespace', namespace],
      ]);
      started.add(workflowId);
      const handle = env.client.workflow.getHandle(workflowId);
      const failure = await env.client
        .withDeadline(Date.now() + FAIL_WITHIN_MS, () => handle.result())
        .catch((e: unknown) => e);
      said.push({ where: `temporal CLI: ${c.kind}`, text: `${startedBy.stdout}\n${startedBy.stderr}` });
      sayErrors(`temporal CLI: ${c.kind}`, failure);
      expect({ kind: c.kind, failed: failure instanceof WorkflowFailedError }).toEqual({ kind: c.kind, failed: true });
      expectNamed(invalidRequestProblems(failure), c);
    };
    for (let i = 0; i < CASES.length; i += BATCH) await Promise.all(CASES.slice(i, i + BATCH).map(one));
    expect((await emulatorStats(env.emulator.adminUrl)).ordersCreated).toBe(0);
  });

  it('leaves no order at the Hook and no workflow but the refused ones', async () => {
    const stats = await emulatorStats(env.emulator.adminUrl);
    expect(stats.ordersCreated).toBe(0);
    // Campaign dry runs are workflows too (`<campaign id>/plan-…`): count them apart.
    const listed = await until(
      async () => {
        const ids: string[] = [];
        for await (const w of env.client.workflow.list({ query: `TaskQueue = "${env.taskQueue}"` })) {
          ids.push(w.workflowId);
        }
        return ids;
      },
      (ids) => ids.filter((id) => !id.includes('/plan-')).length >= started.size,
    );
    expect(listed.filter((id) => !id.includes('/plan-')).sort()).toEqual([...started].sort());
    expect(listed.filter((id) => id.includes('/plan-')).length).toBe(
      CASES.filter((c) => c.type === 'harvestCampaign' && c.by === 'worker').length,
    );
    expect(said.length).toBeGreaterThanOrEqual(3 * CASES.length);
    const secretsFound = secretsIn([PASTED_SECRET, PASTED_SECRET.split('/')[1]!], said);
    recordChaosRow({
      scenario: 'bad input',
      runs: CASES.length * 3,
      injected: `${CASES.length} invalid inputs × CLI, client API, temporal CLI`,
      products: 0,
      // No product is asked for, so none can be lost, duplicated or corrupt (— in the table); the
      // figures are the orders the Hook saw created from refused input, and the pasted secret
      // repeated in a refusal (CLI output, error messages and details; not the input the plain
      // Temporal CLI itself stores in history).
      lost: null,
      duplicated: null,
      corruptAccepted: null,
      secretsFound: secretsFound.length,
      // Refused before anything is written: no sink to audit.
      leftBehind: null,
      ordersFromBadInput: stats.ordersCreated,
    });
    expect(secretsFound).toEqual([]);
  });
});
