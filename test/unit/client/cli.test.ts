/**
 * The command line without any server: help, usage errors, local request validation before any
 * connection, `.env` loading, and error messages that never repeat a secret.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { COMMANDS, commandHelp, mainHelp } from '../../../src/client/cli';
import { cli } from '../../e2e/cli-helpers';

/** Nothing listens here: a command that got as far as connecting would fail with exit code 1. */
const NOWHERE = { TEMPORAL_ADDRESS: '127.0.0.1:1' };

describe('dedl-harvest command line', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dedl-cli-unit-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints help with every command and the exit codes', async () => {
    const result = await cli(['--help'], NOWHERE, dir);
    expect(result.code).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${command.name}\\b`, 'm'));
    for (const code of [
      '0  all items delivered',
      '2  invalid input',
      '3  the harvest finished but some items failed',
      '4  the harvest was cancelled',
    ]) {
      expect(result.stdout).toContain(code);
    }
    const runHelp = await cli(['run', '--help'], NOWHERE, dir);
    expect(runHelp.code).toBe(0);
    expect(runHelp.stdout).toContain('--from-env <file>');
    expect((await cli(['help', 'demo'], NOWHERE, dir)).stdout).toContain('--keep');
  });

  it('keeps every summary and option description in its own column, clear of long labels', () => {
    const helps = [mainHelp(), ...COMMANDS.map(commandHelp)];
    const described = [
      ...COMMANDS.map((c) => c.summary),
      ...COMMANDS.flatMap((c) => Object.values(c.flags).map((f) => f.description)),
    ];
    const lines = helps.flatMap((help) => help.split('\n'));
    for (const text of described) {
      // Each description starts at column 32, after a label and at least two spaces, or alone on its line.
      const at = lines.filter((l) => l.slice(32) === text);
      expect({ text, found: at.length > 0 }).toEqual({ text, found: true });
      for (const l of at) expect(l.slice(0, 32)).toMatch(/^(  \S.*\S  +| +)$/);
    }
    const main = mainHelp();
    expect(main).toContain(
      '  campaign plan|start|watch|pause|resume|concurrency|retry-failed|cancel|report|account\n' +
        `${' '.repeat(32)}${COMMANDS.find((c) => c.name === 'campaign')!.summary}`,
    );
    expect(main).toMatch(
      /^  schedule create\|list\|describe\|gaps\|pause\|unpause\|trigger\|backfill\|delete\n {32}harvest/m,
    );
  });

  it('says a schedule backfill runs [start, end], both ends included, as Temporal does (test/e2e/schedule.test.ts)', () => {
    const help = commandHelp(COMMANDS.find((c) => c.name === 'schedule')!);
    expect(help).toContain('[start, end]');
    expect(help).toMatch(/--start <time> +backfill: start of the range \(ISO 8601, inclusive\)/);
    expect(help).toMatch(/--end <time> +backfill: end of the range \(ISO 8601, inclusive\)/);
    expect(help).not.toContain('exclusive');
  });

  it.each([
    [['bogus'], 'unknown command "bogus"'],
    [['run', 'a.json', '--port', '1'], '--port is not an option of "run"'],
    [['run', 'a.json', '--nope'], '--nope is not an option of "run"'],
    [['--nope'], "Unknown option '--nope'"],
    [['status'], 'usage: dedl-harvest status <workflowId>'],
    [['run'], 'missing the request'],
    [['run', 'a.json', '--from-env', 'b'], 'either a request file or --from-env'],
    [['run', 'a.json', '--sink', './x'], '--sink goes with --from-env'],
    [[], 'Usage: dedl-harvest <command>'],
  ])('refuses %j with exit 2', async (argv, message) => {
    const result = await cli(argv, NOWHERE, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('validates the request before connecting to anything', async () => {
    const file = path.join(dir, 'empty.json');
    await writeFile(
      file,
      JSON.stringify({ name: 'x', collection: 'C', identifiers: [], output: { storage: 'TEMPORARY', sink: './o' } }),
    );
    const result = await cli(['start', 'empty.json'], NOWHERE, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'dedl-harvest: the harvest request empty.json was refused; nothing was started:\n' +
        '  - identifiers: must list at least one identifier\n',
    );
  });

  it('loads .env from the working directory; variables already set win', async () => {
    const withEnv = await mkdtemp(path.join(tmpdir(), 'dedl-cli-dotenv-'));
    try {
      await writeFile(path.join(withEnv, '.env'), 'DESP_USERNAME=from-dotenv\nHOOK_AUTH=token\n');
      const result = await cli(['workflows'], { HOOK_AUTH: 'desp' }, withEnv);
      // The worker settings are incomplete: the refusal lists what is missing, which shows where each value came from.
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        'dedl-harvest: invalid configuration (environment or .env):\n  - DESP_PASSWORD: required when HOOK_AUTH=desp\n',
      );
    } finally {
      await rm(withEnv, { recursive: true, force: true });
    }
  });

  it('never prints a secret from the environment in an error', async () => {
    const secret = 'hunter2-very-secret';
    const result = await cli(['run', `${secret}.json`], { ...NOWHERE, DESP_PASSWORD: secret }, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('dedl-harvest: ***.json: no such file\n');
  });

  it('answers with one JSON document on stdout with --json, errors included', async () => {
    const result = await cli(['status', '--json'], NOWHERE, dir);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      exitCode: 2,
      error: { message: 'usage: dedl-harvest status <workflowId>' },
    });
  });

  it('reports an unreachable Temporal in one line, without a stack trace', async () => {
    const result = await cli(['status', 'some-id'], NOWHERE, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^dedl-harvest: cannot reach Temporal at 127\.0\.0\.1:1 .*\n$/);
  });
});
