/**
 * Invalid harvest requests through `dedl-harvest run`: each kind is refused with exit code 2 and a
 * message naming the field — by the CLI's own check before anything starts, or by the worker's
 * check against the Hook's option definitions and its credential sets — and no order ever
 * reaches the emulator.
 */
import { runCli } from '../../src/client/cli';
import { type HarvestEnv, startHarvestEnv } from '../helpers/harvest-env';
import { testStack } from '../helpers/stack';
import { captureIO, cli, emulatorStats, scratchDir } from './cli-helpers';
import { CASES, good } from '../helpers/invalid-inputs';

/** The harvest requests of the shared table (campaign inputs go through test/chaos/bad-input.test.ts). */
const HARVEST_CASES = CASES.filter((c) => c.type === 'harvest');

describe('invalid requests are refused before anything is ordered', () => {
  let env: HarvestEnv;
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let cliEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = await startHarvestEnv({ timing: { queuedMs: 50, processingMs: 150 } });
    scratch = await scratchDir('invalid');
    const { address, namespace } = testStack().temporal;
    cliEnv = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DEDL_TASK_QUEUE: env.taskQueue };
  });
  afterAll(async () => {
    await env?.close();
    await scratch?.cleanup();
  });

  it('covers at least 15 kinds, from both checks', () => {
    expect(HARVEST_CASES.length).toBeGreaterThanOrEqual(15);
    expect(new Set(HARVEST_CASES.map((c) => c.kind)).size).toBe(HARVEST_CASES.length);
    expect(HARVEST_CASES.filter((c) => c.by === 'worker').length).toBeGreaterThanOrEqual(5);
  });

  it.each(HARVEST_CASES)('$kind → exit 2, naming $field', async (c) => {
    const file = await scratch.write(`${c.kind.replace(/\W+/g, '-')}.json`, c.input);
    const result = await cli(['run', file], cliEnv, scratch.dir);

    expect(result.code).toBe(2);
    const problems = result.stderr.split('\n').filter((l) => l.startsWith('  - '));
    const naming = problems.filter((p) => p.startsWith(`  - ${c.field}: `));
    expect(naming.length).toBeGreaterThan(0);
    expect(naming.join('\n')).toContain(c.says);
    const header =
      c.by === 'schema'
        ? /^dedl-harvest: the harvest request .* was refused; nothing was started:/
        : /^dedl-harvest: the worker refused the harvest request \(harvest-invalid-case-[0-9a-f]{6}\); nothing was ordered:/;
    expect(result.stderr).toMatch(header);
    // Refused by the CLI: not even a workflow was started (which `run` would have announced).
    expect(result.stdout.includes('Started harvest')).toBe(c.by === 'worker');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect((await emulatorStats(env.emulator.adminUrl)).ordersCreated).toBe(0);
  });

  it('refuses a file that is not JSON, and reports the problems as JSON with --json', async () => {
    const file = await scratch.write('broken.json', '{ "name": "broken", ');
    const result = await cli(['run', file], cliEnv, scratch.dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('(request): not valid JSON');

    const asJson = await cli(
      ['run', await scratch.write('empty.json', { ...good(), identifiers: [] }), '--json'],
      cliEnv,
      scratch.dir,
    );
    expect(asJson.code).toBe(2);
    const doc = JSON.parse(asJson.stdout) as { exitCode: number; error: { problems: string[] } };
    expect(doc.exitCode).toBe(2);
    expect(doc.error.problems).toEqual(['identifiers: must list at least one identifier']);
  });

  it('refuses with --json too when the worker finds the problem', async () => {
    const file = await scratch.write('unknown-workflow.json', { ...good(), workflow: 'no-such-workflow' });
    const captured = captureIO(cliEnv, scratch.dir);
    const code = await runCli(['run', file, '--json'], captured.io);
    expect(code).toBe(2);
    const doc = JSON.parse(captured.stdout()) as { exitCode: number; error: { kind: string; problems: string[] } };
    expect(doc.error.kind).toBe('invalid_request');
    expect(doc.error.problems[0]).toMatch(/^workflow: the Hook has no workflow "no-such-workflow"/);
    expect((await emulatorStats(env.emulator.adminUrl)).ordersCreated).toBe(0);
  });
});
