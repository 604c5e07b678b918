/**
 * The README's "Errors and retries" table, checked row by row against the code: each row's
 * failures are produced (for real against the emulator where that is cheap, else by constructing
 * the error the Hook client or the verifier throws), mapped through the activities' failure
 * mapping, and the failure type and retryability compared with what the row says.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, type Context, asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import type { Agent } from 'undici';
import { preflightProblems } from '../../../src/activities/destinations';
import { toApplicationFailure } from '../../../src/activities/failures';
import { invalidRequest } from '../../../src/shared/failures';
import { createHookActivities } from '../../../src/activities/hook-activities';
import { loadCredentialStore } from '../../../src/config/credentials';
import { freePort } from '../../../src/devstack/wait';
import { type EmulatorHandle, startEmulator } from '../../../src/emulator';
import {
  HookResponseError,
  HookUnreadableAnswerError,
  LinkExpiredError,
  hookErrorFromStatus,
  parseRetryAfter,
  toHookError,
} from '../../../src/hook/errors';
import { createHttpAgent } from '../../../src/hook/http';
import { CorruptZipError, ErrorPageError, SizeMismatchError, TooSmallError } from '../../../src/storage/errors';
import { emulatorHookClient } from '../../helpers/hook';

interface Row {
  failure: string;
  types: string[];
  /** The type column says "the error's own name" instead of naming types. */
  ownName: boolean;
  benign: boolean;
  retried: boolean;
  afterRetryAfter: boolean;
}

function readTable(): Row[] {
  const readme = readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Errors and retries\n'));
  if (!section) throw new Error('README has no "## Errors and retries" section');
  const lines = section.split('\n').filter((l) => l.startsWith('|'));
  return lines.slice(2).map((line) => {
    const [failure = '', type = '', retried = ''] = line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
    return {
      failure,
      types: [...type.matchAll(/`([^`]+)`/g)].map((m) => m[1]!),
      ownName: /own name/.test(type),
      benign: /\(benign\)/.test(type),
      retried: /^yes\b/.test(retried),
      afterRetryAfter: /not before `Retry-After`/.test(retried),
    };
  });
}

let emulator: EmulatorHandle;
let agent: Agent;

/** Runs an activity body with the context the worker would give it (attempt 1, never cancelled). */
function inActivity<T>(body: () => Promise<T>): Promise<T> {
  const context = { info: { attempt: 1 }, cancellationSignal: new AbortController().signal } as unknown as Context;
  return asyncLocalStorage.run(context, body);
}

const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const TEMPORARY = [
  { Name: 'output_storage', Value: 'TEMPORARY' },
  { Name: 'source_type', Value: 'DESP' },
  { Name: 'desp_source_username', Value: 'demo' },
  { Name: 'desp_source_password', Value: 'demo' },
  { Name: 'desp_source_collection', Value: 'EO.ESA.DAT.SENTINEL-2.MSI.L1C' },
];

/** What makes each row happen. Keys are the README's first column, verbatim. */
const EXAMPLES: Record<string, () => Promise<unknown[]>> = {
  'invalid request, options or credential names, a destination failing preflight': async () => [
    invalidRequest('harvest request', ['identifiers: at least 1 required', 'output.sink: required']),
    invalidRequest(
      'harvest request',
      await preflightProblems([{ field: 'output.sink', url: 'file:///etc/passwd/inside' }]),
    ),
  ],
  'Hook 400/404/409/422': async () => {
    const refused = await emulatorHookClient(emulator.url, undefined, agent)
      .createBatchOrder({ Name: 'x', WorkflowName: 'no-such-workflow', IdentifierList: [ID], WorkflowOptions: [] })
      .catch((err: unknown) => err);
    return [refused, ...[400, 404, 409, 422].map((status) => hookErrorFromStatus(status, {}))];
  },
  '401 after one token renewal, failed DESP login': async () => {
    const login = await emulatorHookClient(emulator.url, { username: 'demo', password: 'wrong' }, agent)
      .listWorkflows()
      .catch((err: unknown) => err);
    return [login, hookErrorFromStatus(401, {})];
  },
  '403 after one token renewal (role missing)': async () => [hookErrorFromStatus(403, {})],
  '429, or 503 with `Retry-After`': async () => [
    hookErrorFromStatus(429, {}, parseRetryAfter('7')),
    hookErrorFromStatus(503, {}, parseRetryAfter('2')),
  ],
  '5xx (503 without `Retry-After`)': async () => [500, 502, 503, 504].map((s) => hookErrorFromStatus(s, {})),
  'connection refused or reset, timeout, 408': async () => {
    const closedPort = await freePort();
    const refused = await emulatorHookClient(`http://127.0.0.1:${closedPort}`, undefined, agent)
      .listWorkflows()
      .catch((err: unknown) => err);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const timeout = Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
    return [refused, toHookError(reset, {}), toHookError(timeout, {}), hookErrorFromStatus(408, {})];
  },
  'a 2xx answer that is not what the API promises': async () => [
    new HookResponseError('Hook answered with an HTML page instead of JSON'),
  ],
  'a JSON answer whose shape we cannot read': async () => [
    new HookUnreadableAnswerError('Hook answer does not have a shape we can read', {}, ['value.0.Id: Required'], '{}'),
  ],
  'signed link refused (expired after 14 days)': async () => [
    new LinkExpiredError('The signed download link was refused (expired or invalid)', { status: 401 }),
  ],
  'wrong size, error page, corrupt zip': async () => [
    new SizeMismatchError('Content-Length', 1000, 10),
    new ErrorPageError('html', '<html><body>Sign in</body></html>', 'text/html'),
    new TooSmallError(22, 3),
    new CorruptZipError('CRC-32 of a.txt is 0x00000000, expected 0x12345678', 30),
  ],
  'order not finished yet': async () => {
    const hook = emulatorHookClient(emulator.url, undefined, agent);
    const order = await hook.createBatchOrder({
      Name: `not-ready-${Date.now()}`,
      WorkflowName: 'data-harvest',
      IdentifierList: [ID],
      WorkflowOptions: TEMPORARY,
    });
    const activities = createHookActivities({ hook, credentials: loadCredentialStore({}) });
    const poll = inActivity(() =>
      activities.pollOrder({
        orderId: order.Id,
        handled: [],
        initialIntervalMs: 1000,
        maxIntervalMs: 5000,
        backoff: 2,
      }),
    );
    return [await poll.catch((err: unknown) => err)];
  },
  'sink cannot be written: ENOTDIR, EACCES, EROFS, NoSuchBucket, AccessDenied, wrong S3 keys': async () => [
    await import('node:fs/promises').then((fs) => fs.mkdir('/etc/passwd/inside').catch((err: unknown) => err)),
    Object.assign(new Error('permission denied'), { code: 'EACCES' }),
    Object.assign(new Error('read-only file system'), { code: 'EROFS' }),
    Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' }),
    Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }),
    Object.assign(new Error('unknown key'), { name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } }),
    Object.assign(new Error('bad signature'), { name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } }),
  ],
  'disk full (ENOSPC, EDQUOT)': async () => [
    Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }),
    Object.assign(new Error('disk quota exceeded'), { code: 'EDQUOT' }),
  ],
  'anything else (S3 5xx or SlowDown, file system)': async () => [
    Object.assign(new Error('Please reduce your request rate'), {
      name: 'SlowDown',
      $metadata: { httpStatusCode: 503 },
    }),
    await import('node:fs/promises').then((fs) => fs.readFile('/nonexistent/dedl').catch((err: unknown) => err)),
  ],
};

beforeAll(async () => {
  agent = createHttpAgent();
  // Items stay queued long enough for a poll to find the order unfinished.
  emulator = await startEmulator({ timing: { queuedMs: 60_000, processingMs: 60_000 } });
});

afterAll(async () => {
  await emulator?.close();
  await agent?.close();
});

const rows = readTable();

describe('the README table of errors and retries', () => {
  it('has a row for every kind of failure this test produces, and no other', () => {
    expect(rows.map((r) => r.failure).sort()).toEqual(Object.keys(EXAMPLES).sort());
  });

  it.each(rows.map((row) => [row.failure, row] as const))('%s', async (_failure, row) => {
    const errors = await EXAMPLES[row.failure]!();
    const produced = new Set<string>();
    for (const error of errors) {
      const failure = toApplicationFailure(error);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      const type = failure.type ?? '';
      produced.add(type);
      const expected = row.ownName ? [(error as Error).name] : row.types;
      expect([String(error), expected]).toEqual([String(error), expect.arrayContaining([type])]);
      // Retried exactly when the failure allows it: no workflow retry policy lists types to stop.
      const retried = !failure.nonRetryable;
      expect({ type, retried }).toEqual({ type, retried: row.retried });
      // Rate limits wait for the server's Retry-After: it becomes the next retry's delay.
      const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs;
      const waits = row.afterRetryAfter ? failure.nextRetryDelay : retryAfter;
      expect({ type, waits }).toEqual({ type, waits: retryAfter });
      expect(row.afterRetryAfter ? retryAfter : 1).toBeGreaterThan(0);
      expect(failure.category === ApplicationFailureCategory.BENIGN).toBe(row.benign);
    }
    // Every type the row names is one the code really produces.
    const named = row.ownName ? [...produced] : row.types;
    expect([...produced].sort()).toEqual([...named].sort());
  });
});
