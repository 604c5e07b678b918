/**
 * Shared pieces of the chaos scenarios: a seeded fault schedule, worker processes that can be
 * SIGKILLed and replaced, and audits of what a sink holds afterwards (products with the emulator's
 * sha256, leftovers, duplicates). Scenarios combine them and record one row each (chaos-record.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { decodeTimeoutType } from '@temporalio/common';
import { request as httpRequest } from 'undici';
import type { EmulatorHandle } from '../../src/emulator';
import { createRandom } from '../../src/emulator/prng';
import { despTokenSource } from '../../src/hook/desp-login';
import { endpointsAt } from '../../src/hook/endpoints';
import { createHttpAgent } from '../../src/hook/http';
import type { CampaignReport } from '../../src/shared/campaign-report';
import { FAST_WORKER_ENV, type HookOrderView, orderCounts } from '../helpers/campaign-env';
import {
  type ExpectedProduct,
  type SinkAudit,
  leftBehind,
  productObjectName,
  productProblem,
} from '../helpers/sink-audit';
import { testStack } from '../helpers/stack';
import { recordChaosRow, secretsIn } from './chaos-record';

// The sink audits live in test/helpers/sink-audit.ts (the e2e tests re-hash with them too).
export {
  type ExpectedProduct,
  type SinkAudit,
  type SinkUnderTest,
  auditLocalSink,
  auditS3Sink,
  countLocalProducts,
  countS3Products,
  expectedProducts,
  listUnfinishedUploads,
  localSinkUnderTest,
  s3SinkUnderTest,
} from '../helpers/sink-audit';

// ---------------------------------------------------------------------------------------------
// The fault schedule: seeded, printed, reproducible.

export interface ChaosRandom {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
}

/**
 * A seeded random source for one scenario: `CHAOS_SEED` when set (to replay a failing run), else a
 * fresh seed. The seed is printed so any run can be repeated.
 */
export function chaosRandom(scenario: string): ChaosRandom {
  const fromEnv = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;
  const seed = Number.isSafeInteger(fromEnv) ? fromEnv! : Math.floor(Math.random() * 2 ** 31);
  process.stderr.write(`[chaos] ${scenario}: seed ${seed} (rerun with CHAOS_SEED=${seed})\n`);
  const next = createRandom(seed, scenario);
  return { seed, next, int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

/**
 * `count` progress marks in (0, total): the points (e.g. products delivered) after which a fault
 * is injected, spread at random over `[from, to]` of the run, ascending, each at least 1 apart.
 */
export function faultMarks(random: ChaosRandom, count: number, total: number, from = 0.03, to = 0.9): number[] {
  const marks = Array.from({ length: count }, () => Math.round(total * (from + (to - from) * random.next())));
  marks.sort((a, b) => a - b);
  for (let i = 0; i < marks.length; i++) marks[i] = Math.max(marks[i]!, (marks[i - 1] ?? 0) + 1, 1);
  return marks;
}

/** Polls `read` until `done` holds; bounded, with a message saying what was awaited. */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await read();
      if (done(last)) return last;
    } catch (err) {
      lastError = err; // a server being restarted, a listing racing a rename: read again
    }
    if (Date.now() > deadline) {
      const seen = lastError ? ` (last error: ${String(lastError)})` : '';
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last value ${JSON.stringify(last)}${seen}`);
    }
    await delay(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Worker processes.

export interface ChaosWorkerEnvOptions {
  temporal: { address: string; namespace: string };
  emulator: EmulatorHandle;
  taskQueue: string;
  /** A credential set named `name` for an S3 sink. */
  s3?: { name: string; endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
}

/**
 * The environment of a `dedl-harvest worker` child for a chaos scenario (fast, unthrottled, INFO
 * logs), loading the run's prebuilt workflow bundle instead of bundling at every (re)start.
 */
export function chaosWorkerEnv(options: ChaosWorkerEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...FAST_WORKER_ENV,
    TEMPORAL_ADDRESS: options.temporal.address,
    TEMPORAL_NAMESPACE: options.temporal.namespace,
    DEDL_TASK_QUEUE: options.taskQueue,
    DEDL_WORKFLOW_BUNDLE: testStack().workflowBundle,
    DEDL_SHUTDOWN_GRACE_TIME: '1s',
    HOOK_BASE_URL: options.emulator.url,
    DESP_USERNAME: 'demo',
    DESP_PASSWORD: 'demo',
    LOG_LEVEL: 'INFO',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  if (options.s3) {
    const stem = `DEDL_CREDENTIALS_${options.s3.name.toUpperCase().replace(/-/g, '_')}_`;
    env[`${stem}ACCESS_KEY_ID`] = options.s3.accessKeyId;
    env[`${stem}SECRET_ACCESS_KEY`] = options.s3.secretAccessKey;
    env[`${stem}ENDPOINT`] = options.s3.endpoint;
    env[`${stem}REGION`] = options.s3.region;
  }
  return env;
}

const READY_LINE = 'dedl-harvest worker ready';
const CLI_MAIN = path.join(__dirname, '../fixtures/cli-main.ts');

/**
 * Keeps one `dedl-harvest worker` child process running from source, and kills it with SIGKILL
 * on request. Every child's stdout and stderr go to one log file (`logFile`), for the secrets scan
 * and for diagnosing a failed run. A child that exits on its own (not killed by us) is counted in
 * `unexpectedExits` and replaced, as a process supervisor would.
 */
export class WorkerSupervisor {
  kills = 0;
  starts = 0;
  unexpectedExits = 0;
  private child?: ChildProcess;
  private readonly log: WriteStream;
  private closing = false;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  /** Starts a worker (none must be running) and resolves once it polls its task queue. */
  async start(readyTimeoutMs = 120_000): Promise<void> {
    if (this.child) throw new Error('a worker is already running');
    // tsx as a loader of this very process (not its CLI, which would put the worker in a grandchild).
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'worker'], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    const n = this.starts;
    let seen = '';
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.log.write(chunk);
        if (seen.length < 100_000) seen += chunk.toString('utf8');
        if (seen.includes(READY_LINE)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        reject(new Error(`worker #${n} exited during start-up (${signal ?? code}): ${seen.slice(-2000)}`));
      });
    });
    child.once('exit', (code, signal) => {
      this.log.write(`\n[chaos] worker #${n} (pid ${child.pid}) exited: ${signal ?? code}\n`);
      if (this.child !== child) return;
      this.child = undefined;
      if (this.closing) return;
      this.unexpectedExits++;
      void this.start(readyTimeoutMs).catch(() => undefined);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`worker #${n} was not ready within ${readyTimeoutMs} ms: ${seen.slice(-2000)}`)),
        readyTimeoutMs,
      );
    });
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** SIGKILLs the running worker and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) throw new Error('no worker to kill');
    this.child = undefined; // not an unexpected exit
    const gone = exited(child);
    child.kill('SIGKILL');
    await gone;
    this.kills++;
    this.log.write(`\n[chaos] SIGKILL #${this.kills} sent to pid ${child.pid}\n`);
  }

  async killAndRestart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Stops the running worker (SIGTERM, SIGKILL after `graceMs`) and closes the log. */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    const child = this.child;
    this.child = undefined;
    if (child) {
      const gone = exited(child);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
  );
}

/** A scratch folder for one scenario (sink, bundle, logs); removed by `remove()`. */
export async function scratchDir(label: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `dedl-chaos-${label}-`));
  // CHAOS_KEEP=1 keeps it (sink, worker logs) for a look after a failed run.
  const keep = process.env.CHAOS_KEEP === '1';
  if (keep) process.stderr.write(`[chaos] keeping ${dir}\n`);
  return { dir, remove: () => (keep ? Promise.resolve() : rm(dir, { recursive: true, force: true })) };
}

// ---------------------------------------------------------------------------------------------
// What the workflows went through.

/**
 * Activities of these workflows (every run) whose last attempt followed a timeout, by activity type
 * and timeout kind, e.g. `{ "pollOrder START_TO_CLOSE": 2 }`: after a SIGKILL, an activity that
 * was running on the dead worker is retried only once its timeout fires, so this shows what a
 * kill cost in waiting. (Only the failure before the last attempt is in the history.)
 */
export async function activitiesRetriedAfterTimeout(
  client: Client,
  workflowIds: readonly string[],
): Promise<Record<string, number>> {
  const counts = new Map<string, number>();
  for (const workflowId of workflowIds) {
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
      const types = new Map<string, string>();
      for (const event of history.events ?? []) {
        const scheduled = event.activityTaskScheduledEventAttributes;
        if (scheduled) types.set(String(event.eventId), scheduled.activityType?.name ?? '?');
        const started = event.activityTaskStartedEventAttributes;
        const timeout = started?.lastFailure?.timeoutFailureInfo;
        if (started && timeout) {
          const kind = decodeTimeoutType(timeout.timeoutType) ?? String(timeout.timeoutType);
          const key = `${types.get(String(started.scheduledEventId)) ?? '?'} ${kind}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
    }
  }
  return Object.fromEntries([...counts].sort());
}

/**
 * What a campaign that did not finish is waiting for: its pending activities and children, and
 * theirs, one line each (type, attempt, state, last failure), for the failure message.
 */
export async function pendingWork(client: Client, workflowId: string, depth = 0): Promise<string[]> {
  const lines: string[] = [];
  const description = await client.workflow.getHandle(workflowId).describe();
  const indent = '  '.repeat(depth);
  lines.push(`${indent}${workflowId}: ${description.status.name}`);
  for (const activity of description.raw.pendingActivities ?? []) {
    lines.push(
      `${indent}  activity ${activity.activityType?.name ?? '?'} attempt ${activity.attempt} state ${activity.state}` +
        ` last failure: ${activity.lastFailure?.message ?? '-'}`,
    );
  }
  for (const child of description.raw.pendingChildren ?? []) {
    if (child.workflowId) lines.push(...(await pendingWork(client, child.workflowId, depth + 1)));
  }
  return lines;
}

/**
 * Every history of these workflows as text, one place per run: each run back through
 * continue-as-new and each child workflow's, recursively, with payload bytes decoded (a secret
 * inside a payload shows as text).
 */
export async function historyTexts(
  client: Client,
  workflowIds: readonly string[],
): Promise<{ where: string; text: string }[]> {
  const places: { where: string; text: string }[] = [];
  const seen = new Set<string>();
  const queue = [...workflowIds];
  const asText = (_: string, value: unknown) =>
    value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value;
  while (queue.length > 0) {
    const workflowId = queue.shift()!;
    if (seen.has(workflowId)) continue;
    seen.add(workflowId);
    let runId: string | undefined;
    do {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      places.push({
        where: `history of ${workflowId}${runId ? ` run ${runId}` : ''}`,
        text: JSON.stringify(history, asText),
      });
      runId = undefined;
      for (const event of history.events ?? []) {
        const child = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
        if (child) queue.push(child);
        const previous = event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
        if (previous) runId = previous;
      }
    } while (runId);
  }
  return places;
}

/**
 * The occurrences of `secrets` in a scenario's histories (the workflow's and its children's),
 * its workers' log and its report: what the row's "secrets found" counts.
 */
export async function campaignSecretsFound(input: {
  client: Client;
  workflowId: string;
  logFile: string;
  /** The run's report, a campaign's or a harvest's: only its text is searched. */
  report: object;
  secrets: readonly string[];
}): Promise<string[]> {
  const places = [
    ...(await historyTexts(input.client, [input.workflowId])),
    { where: 'worker log', text: await readFile(input.logFile, 'utf8') },
    { where: 'campaign report', text: JSON.stringify(input.report) },
  ];
  return secretsIn(input.secrets, places);
}

/**
 * The crash scenarios' secrets scan: their workers hold the stack's S3 secret key (credential set
 * chaos-s3) whatever the sink, so it must appear in no history, worker log or report.
 */
export function workerKeyFound(input: {
  client: Client;
  workflowId: string;
  workers: { logFile: string };
  report: object;
}): Promise<string[]> {
  return campaignSecretsFound({
    client: input.client,
    workflowId: input.workflowId,
    logFile: input.workers.logFile,
    report: input.report,
    secrets: [testStack().s3.secretAccessKey],
  });
}

// ---------------------------------------------------------------------------------------------
// What the emulator saw.

/** Every order the emulator holds for an account (default demo/demo): id, name, status, identifiers. */
export async function listHookOrders(
  emulator: EmulatorHandle,
  account = { username: 'demo', password: 'demo' },
): Promise<HookOrderView[]> {
  const agent = createHttpAgent();
  try {
    const tokens = despTokenSource(agent, account, { endpoints: endpointsAt(emulator.url) });
    const res = await httpRequest(`${emulator.odataUrl}BatchOrder`, {
      headers: { authorization: `Bearer ${await tokens.token()}`, accept: 'application/json' },
    });
    const body = (await res.body.json()) as { value: HookOrderView[] };
    if (res.statusCode !== 200) throw new Error(`BatchOrder listing failed: HTTP ${res.statusCode}`);
    return body.value;
  } finally {
    await agent.close();
  }
}

export { emulatorStats } from '../helpers/hook';

// ---------------------------------------------------------------------------------------------
// The figures of a run.

export interface ChaosFigures {
  products: number;
  /** Expected products without a copy holding the emulator's bytes. */
  lost: number;
  /** Products delivered (or ordered) more than once: ledger records, manifest rows, Hook orders. */
  duplicated: number;
  /** Product objects under a product's name whose bytes are not the emulator's. */
  corruptAccepted: number;
  /** Hook orders whose `Name` was used more than once (a batch ordered twice). */
  ordersNamedTwice: number;
  partFiles: number;
  unfinishedUploads: number;
  strangers: number;
  /** `.part` files, unfinished uploads and strangers together: the table's "left behind". */
  leftBehind: number;
  /** What went wrong, product by product, for the failure message. */
  problems: string[];
}

/**
 * Compares a sink audit and the Hook's orders with what was expected. `ledger` says whether the
 * run keeps a ledger (TEMPORARY output does): then every product needs exactly one record.
 */
export function chaosFigures(input: {
  expected: readonly ExpectedProduct[];
  audit: SinkAudit;
  orders: readonly HookOrderView[];
  ledger: boolean;
}): ChaosFigures {
  const { expected, audit, orders } = input;
  const problems: string[] = [];
  let lost = 0;
  let corrupt = 0;
  let duplicated = 0;
  const ordered = orderCounts(orders);
  const expectedNames = new Set<string>();
  for (const product of expected) {
    expectedNames.add(productObjectName(product.identifier));
    const problem = productProblem(product, audit);
    if (problem) {
      lost++;
      if (problem.kind === 'corrupt') corrupt++;
      problems.push(problem.text);
    }
    const copies = {
      orders: ordered.get(product.identifier) ?? 0,
      manifest: audit.manifestRows.get(product.identifier) ?? 0,
      ledger: audit.ledgerRecords.get(product.identifier) ?? 0,
    };
    if (copies.orders > 1 || copies.manifest > 1 || copies.ledger > 1) {
      duplicated++;
      problems.push(`${product.identifier}: more than once (${JSON.stringify(copies)})`);
    }
    if (copies.orders === 0 || copies.manifest === 0 || (input.ledger && copies.ledger === 0)) {
      problems.push(`${product.identifier}: not accounted for (${JSON.stringify(copies)})`);
    }
  }
  for (const name of audit.objects.keys()) {
    if (!expectedNames.has(name)) audit.strangers.push(name);
  }
  const byName = new Map<string, number>();
  for (const order of orders) byName.set(order.Name, (byName.get(order.Name) ?? 0) + 1);
  const ordersNamedTwice = [...byName.values()].filter((n) => n > 1).length;
  if (ordersNamedTwice > 0) problems.push(`orders created twice: ${JSON.stringify(Object.fromEntries(byName))}`);
  if (audit.partFiles.length > 0) problems.push(`.part files left: ${audit.partFiles.join(', ')}`);
  if (audit.unfinishedUploads.length > 0)
    problems.push(`unfinished multipart uploads: ${audit.unfinishedUploads.join(', ')}`);
  if (audit.strangers.length > 0) problems.push(`unexpected objects: ${audit.strangers.join(', ')}`);
  return {
    products: expected.length,
    lost,
    duplicated,
    corruptAccepted: corrupt,
    ordersNamedTwice,
    partFiles: audit.partFiles.length,
    unfinishedUploads: audit.unfinishedUploads.length,
    strangers: audit.strangers.length,
    leftBehind: leftBehind(audit).length,
    problems,
  };
}

/**
 * How every crash scenario ends: its row recorded, then the campaign delivered every product
 * exactly once, in one order per batch, with nothing corrupt, nothing left behind and no secret
 * (the S3 secret key its workers hold) in its histories, log or report.
 */
export function expectCampaignIntact(input: {
  scenario: string;
  injected: string;
  report: CampaignReport;
  figures: ChaosFigures;
  orders: readonly HookOrderView[];
  plan: { products: number; orderSize: number };
  workers: { logFile: string; unexpectedExits: number };
  /** campaignSecretsFound's answer: where the scenario's secrets appeared. */
  secretsFound: readonly string[];
}): void {
  const { scenario, report, figures, plan, workers } = input;
  recordChaosRow({
    scenario,
    runs: 1,
    injected: input.injected,
    products: figures.products,
    lost: figures.lost,
    duplicated: figures.duplicated,
    corruptAccepted: figures.corruptAccepted,
    secretsFound: input.secretsFound.length,
    leftBehind: figures.leftBehind,
  });
  const unfinished = (report.items ?? []).filter((item) => item.state !== 'delivered');
  if (unfinished.length > 0 || figures.problems.length > 0) {
    process.stderr.write(
      `[chaos] ${scenario}: outcome ${report.outcome}; not delivered: ${JSON.stringify(unfinished)}; ` +
        `worker log: ${workers.logFile}\n`,
    );
  }
  expect(figures.problems).toEqual([]);
  expect(input.secretsFound).toEqual([]);
  const orders = Math.ceil(plan.products / plan.orderSize);
  expect(report).toMatchObject({
    outcome: 'delivered',
    counts: { items: plan.products, delivered: plan.products, failed: 0, skipped: 0 },
    orders,
  });
  expect(figures).toMatchObject({
    lost: 0,
    duplicated: 0,
    corruptAccepted: 0,
    ordersNamedTwice: 0,
    partFiles: 0,
    unfinishedUploads: 0,
    strangers: 0,
  });
  // Each product ordered exactly once, in one order per batch.
  expect(input.orders).toHaveLength(orders);
  // Workers die only when the scenario kills them.
  expect(workers.unexpectedExits).toBe(0);
}
