/** `dedl-harvest emulator`: a standalone emulator on loopback, its faults set from the command line. */
import { request as http } from 'undici';
import { runCli } from '../../../src/client/cli';
import { emulatorOptionsFromFlags } from '../../../src/client/commands/emulator';
import { captureIO, cli } from '../../e2e/cli-helpers';

describe('dedl-harvest emulator', () => {
  it('starts on loopback with the given faults, prints its URL and account, stops on request', async () => {
    const stop = new AbortController();
    const captured = captureIO({}, process.cwd(), { signal: stop.signal });
    const running = runCli(
      ['emulator', '--json', '--faults', '{"itemFailureRate":0.25}', '--product-size', '70000'],
      captured.io,
    );
    try {
      const printed = JSON.parse(await captured.stdoutMatching(/}\n$/)) as {
        url: string;
        adminUrl: string;
        account: { username: string; password: string };
      };
      expect(printed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(printed.account).toEqual({ username: 'demo', password: 'demo' });
      const faults = (await (await http(`${printed.adminUrl}/faults`)).body.json()) as { itemFailureRate: number };
      expect(faults.itemFailureRate).toBe(0.25);
      const workflows = await http(`${printed.url}/odata/v1/Workflows`);
      await workflows.body.dump();
      expect(workflows.statusCode).toBe(401); // the real API wants a bearer token; so does the emulator
    } finally {
      stop.abort();
    }
    expect(await running).toBe(0);
  });

  it('refuses bad options, naming them (exit 2)', async () => {
    const bad = await cli(['emulator', '--faults', '{"itemFailureRate":2}', '--port', 'x'], {}, process.cwd());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port: must be an integer');
    const faults = await cli(['emulator', '--faults', '{"itemFailureRate":2}'], {}, process.cwd());
    expect(faults.code).toBe(2);
    expect(faults.stderr).toMatch(/ {2}- faults\.itemFailureRate: /);
    const json = await cli(['emulator', '--options', '[1]'], {}, process.cwd());
    expect(json.stderr).toContain('--options: must be a JSON object');
  });

  it('speaks the recorded May-2024 dialect with --options \'{"hookDialect":"2024-05"}\', and refuses an unknown one', async () => {
    expect(emulatorOptionsFromFlags({ options: '{"hookDialect":"2024-05"}' })).toMatchObject({
      hookDialect: '2024-05',
    });
    const bad = await cli(['emulator', '--options', '{"hookDialect":"2023"}'], {}, process.cwd());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/hookDialect: /);
  });

  it('turns the shaping flags into the `shaping` fault, beside --faults, and names a bad rate', async () => {
    expect(
      emulatorOptionsFromFlags({
        faults: '{"resetRate":0.1}',
        'link-rate': '20Mbit',
        'first-byte-ms': '30',
        'max-connections': '4',
      }),
    ).toMatchObject({
      faults: { resetRate: 0.1, shaping: { perConnectionRate: '20Mbit', firstByteMs: 30, maxConnectionsPerClient: 4 } },
    });
    const bad = await cli(['emulator', '--link-rate', 'fast'], {}, process.cwd());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/faults\.shaping\.perConnectionRate: must be a positive rate/);
  });
});
