/**
 * The Temporal connection settings (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
 * `TEMPORAL_TLS*`) that both the CLI and the worker read through `temporalConnectionOptions`:
 * the cases connect-and-input.test.ts leaves out — a CA file, TLS forced on or off whatever else
 * is set, every unreadable file listed at once, empty variables, the accepted spellings — and
 * what a user sees when the address is wrong.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectClient } from '../../../src/client/connect';
import { temporalConnectionOptions } from '../../../src/config/temporal-connection';
import { freePort } from '../../../src/devstack/wait';
import { ConfigError, loadWorkerConfig } from '../../../src/config/worker-config';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dedl-temporal-tls-'));
  await writeFile(path.join(dir, 'ca.pem'), 'CA');
  await writeFile(path.join(dir, 'client.pem'), 'CERT');
  await writeFile(path.join(dir, 'client.key'), 'KEY');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    temporalConnectionOptions(env, dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('Temporal TLS settings', () => {
  it('trusts a private CA from TEMPORAL_TLS_SERVER_CA_CERT_PATH, which alone switches TLS on', () => {
    expect(temporalConnectionOptions({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'ca.pem' }, dir).tls).toEqual({
      serverRootCACertificate: Buffer.from('CA'),
    });
  });

  it('reads absolute paths as given, whatever the working directory', () => {
    const options = temporalConnectionOptions(
      {
        TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'client.pem'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'client.key'),
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem'),
      },
      '/',
    );
    expect(options.tls).toEqual({
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
      serverRootCACertificate: Buffer.from('CA'),
    });
  });

  it('switches TLS on for a server name alone, and for TEMPORAL_TLS=true with the system roots', () => {
    expect(temporalConnectionOptions({ TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }, dir).tls).toEqual({
      serverNameOverride: 'temporal.internal',
    });
    expect(temporalConnectionOptions({ TEMPORAL_TLS: 'true' }, dir)).toEqual({
      address: 'localhost:7233',
      namespace: 'default',
      tls: {},
    });
  });

  it('keeps TLS off with TEMPORAL_TLS=false even when files and an API key are set', () => {
    const options = temporalConnectionOptions(
      {
        TEMPORAL_TLS: 'false',
        TEMPORAL_API_KEY: 'key',
        TEMPORAL_TLS_CLIENT_CERT_PATH: 'client.pem',
        TEMPORAL_TLS_CLIENT_KEY_PATH: 'client.key',
      },
      dir,
    );
    expect(options.tls).toBe(false);
    expect(options.apiKey).toBe('key');
  });

  it.each([
    ['1', true],
    ['yes', true],
    ['true', true],
    ['0', false],
    ['no', false],
    ['false', false],
  ])('reads TEMPORAL_TLS=%s as %s', (value, on) => {
    expect(temporalConnectionOptions({ TEMPORAL_TLS: value }, dir).tls).toEqual(on ? {} : false);
  });

  it('lists every unreadable file at once, by variable, without reading further', () => {
    expect(
      problemsOf({
        TEMPORAL_TLS_CLIENT_CERT_PATH: 'missing.pem',
        TEMPORAL_TLS_CLIENT_KEY_PATH: 'missing.key',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'ca.pem',
      }),
    ).toEqual([
      'TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read missing.pem (ENOENT)',
      'TEMPORAL_TLS_CLIENT_KEY_PATH: cannot read missing.key (ENOENT)',
    ]);
    // A directory is not a certificate.
    expect(problemsOf({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '.' })).toEqual([
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read . (EISDIR)',
    ]);
  });

  it('treats empty variables (FOO= in .env) as unset, and ignores other variables', () => {
    expect(
      temporalConnectionOptions(
        {
          TEMPORAL_ADDRESS: '',
          TEMPORAL_API_KEY: '',
          TEMPORAL_TLS: '',
          TEMPORAL_TLS_CLIENT_CERT_PATH: '',
          HOOK_AUTH: 'not-a-mode',
        },
        dir,
      ),
    ).toEqual({ address: 'localhost:7233', namespace: 'default', tls: false });
  });

  it('refuses what the worker refuses, naming the same variable', () => {
    const env = { TEMPORAL_TLS: 'maybe', TEMPORAL_NAMESPACE: 'ns', HOOK_AUTH: 'token', HOOK_TOKEN: 't' };
    const fromClient = problemsOf(env);
    let fromWorker: string[] = [];
    try {
      loadWorkerConfig(env);
    } catch (err) {
      fromWorker = (err as ConfigError).problems;
    }
    expect(fromClient).toHaveLength(1);
    expect(fromClient[0]).toMatch(/^TEMPORAL_TLS: /);
    expect(fromWorker).toEqual(fromClient);
  });
});

describe('connecting', () => {
  // Bounded by connectClient's 10 s connect timeout: the SDK keeps retrying a refused address until then.
  it('names the address and what to do when nothing answers there', async () => {
    const port = await freePort();
    const failure = await connectClient({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }, dir).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(new RegExp(`^cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(`));
    expect((failure as Error).message).toContain('set TEMPORAL_ADDRESS');
  });
});
