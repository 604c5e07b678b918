/** `dedl-harvest emulator`: a standalone Hook emulator (loopback by default) until Ctrl-C. */
import { DEFAULT_ACCOUNT, type EmulatorOptionsInput, emulatorOptionsSchema, startEmulator } from '../../emulator';
import { type Command, type FlagValues, stringFlag } from '../command';
import { InvalidInputError } from '../errors';
import { line, printJson, untilStopped } from '../io';

export const emulatorCommand: Command = {
  name: 'emulator',
  usage:
    'emulator [--port <n>] [--faults <json>] [--options <json>] [--link-rate <rate>] [--total-rate <rate>] [--first-byte-ms <ms>] [--max-connections <n>]',
  summary: 'run a local Hook emulator (DESP/DEDL login, OData orders, storage, STAC) until Ctrl-C',
  details:
    'Default account demo/demo. Faults, e.g. --faults \'{"itemFailureRate":0.2,"errorRate":0.05}\', can be changed\n' +
    'while it runs with PUT/PATCH <url>/_emulator/faults; GET <url>/_emulator/stats counts orders and requests.',
  flags: {
    port: { type: 'string', value: '<n>', description: 'TCP port (default 0: any free port)' },
    host: { type: 'string', value: '<ip>', description: 'interface to bind (default 127.0.0.1, loopback only)' },
    faults: { type: 'string', value: '<json>', description: 'fault injection settings (see src/emulator/faults.ts)' },
    'product-size': { type: 'string', value: '<bytes>', description: 'size of every product zip (default 65536)' },
    'link-rate': {
      type: 'string',
      value: '<rate>',
      description: 'shape product downloads: bandwidth per connection, e.g. 20Mbit (DEDL HDA quota)',
    },
    'total-rate': {
      type: 'string',
      value: '<rate>',
      description: 'shape product downloads: bandwidth of all together',
    },
    'first-byte-ms': {
      type: 'string',
      value: '<ms>',
      description: 'shape product downloads: added time to first byte',
    },
    'max-connections': {
      type: 'string',
      value: '<n>',
      description: 'shape product downloads: open downloads per client, more answered 429 with Retry-After',
    },
    'state-file': { type: 'string', value: '<file>', description: 'keep orders and links across restarts in <file>' },
    options: {
      type: 'string',
      value: '<json>',
      description: 'any other emulator option (see src/emulator/options.ts)',
    },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const options = emulatorOptionsFromFlags(ctx.flags);
    const emulator = await startEmulator(options);
    try {
      const account = { username: DEFAULT_ACCOUNT.username, password: DEFAULT_ACCOUNT.password };
      if (ctx.json) {
        printJson(ctx.io.stdout, {
          url: emulator.url,
          odataUrl: emulator.odataUrl,
          adminUrl: emulator.adminUrl,
          account,
        });
      } else {
        const out = (text: string) => line(ctx.io.stdout, text);
        out(`Hook emulator at ${emulator.url}`);
        out(`  OData:    ${emulator.odataUrl}`);
        out(`  account:  ${account.username} / ${account.password} (DESP login; roles hook-workflows, hook-high)`);
        out(`  admin:    ${emulator.adminUrl}/faults, ${emulator.adminUrl}/stats`);
        out(
          `A worker uses it with: HOOK_BASE_URL=${emulator.url} DESP_USERNAME=${account.username} DESP_PASSWORD=${account.password}`,
        );
        out('Ctrl-C stops it.');
      }
      await untilStopped(ctx.io);
      return 0;
    } finally {
      await emulator.close();
    }
  },
};

/** Flags → validated emulator options; problems name the option (exit 2). */
export function emulatorOptionsFromFlags(flags: FlagValues): EmulatorOptionsInput {
  const problems: string[] = [];
  const json = (flag: string): Record<string, unknown> | undefined => {
    const text = stringFlag(flags, flag);
    if (text === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
      problems.push(`--${flag}: must be a JSON object`);
    } catch (err) {
      problems.push(`--${flag}: not valid JSON (${(err as Error).message})`);
    }
    return undefined;
  };
  const integer = (flag: string): number | undefined => {
    const text = stringFlag(flags, flag);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value)) problems.push(`--${flag}: must be an integer`);
    return value;
  };
  const input: Record<string, unknown> = { ...json('options') };
  const faults = json('faults');
  if (faults) input.faults = faults;
  const shaping = shapingFromFlags(flags, integer);
  if (shaping) {
    const given = (input.faults ?? {}) as Record<string, unknown>;
    input.faults = { ...given, shaping: { ...(given.shaping as object | undefined), ...shaping } };
  }
  const port = integer('port');
  if (port !== undefined) input.port = port;
  const size = integer('product-size');
  if (size !== undefined) input.productSize = size;
  const host = stringFlag(flags, 'host');
  if (host) input.host = host;
  const stateFile = stringFlag(flags, 'state-file');
  if (stateFile) input.stateFile = stateFile;
  if (problems.length > 0) throw new InvalidInputError('invalid emulator options', problems);

  const parsed = emulatorOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidInputError(
      'invalid emulator options',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`),
    );
  }
  return input as EmulatorOptionsInput;
}

/** The `--link-rate`, `--total-rate`, `--first-byte-ms` and `--max-connections` flags as a `shaping` fault; undefined when none is given. */
function shapingFromFlags(
  flags: FlagValues,
  integer: (flag: string) => number | undefined,
): Record<string, unknown> | undefined {
  const shaping: Record<string, unknown> = {};
  const perConnection = stringFlag(flags, 'link-rate');
  if (perConnection !== undefined) shaping.perConnectionRate = perConnection;
  const total = stringFlag(flags, 'total-rate');
  if (total !== undefined) shaping.totalRate = total;
  const firstByte = integer('first-byte-ms');
  if (firstByte !== undefined) shaping.firstByteMs = firstByte;
  const connections = integer('max-connections');
  if (connections !== undefined) shaping.maxConnectionsPerClient = connections;
  return Object.keys(shaping).length > 0 ? shaping : undefined;
}
