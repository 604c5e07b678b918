import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { temporalConnectionOptions } from '../../../src/config/temporal-connection';
import { InvalidRequestError } from '../../../src/client/errors';
import { loadRequest, resolveSinks, sinkToUrl } from '../../../src/client/request-input';
import { ConfigError } from '../../../src/config/worker-config';
import { logLine } from '../../../src/worker/main';

describe('the Temporal connection from the environment', () => {
  it('defaults to a local server without TLS', () => {
    expect(temporalConnectionOptions({})).toEqual({ address: 'localhost:7233', namespace: 'default', tls: false });
  });

  it('switches TLS on with an API key (Temporal Cloud), and off when told', () => {
    expect(temporalConnectionOptions({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k' })).toEqual({
      address: 'ns.acct.tmprl.cloud:7233',
      namespace: 'default',
      tls: {},
      apiKey: 'k',
    });
    expect(temporalConnectionOptions({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).tls).toBe(false);
  });

  it('reads certificate files relative to the working directory', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dedl-tls-'));
    try {
      await writeFile(path.join(dir, 'client.pem'), 'CERT');
      await writeFile(path.join(dir, 'client.key'), 'KEY');
      const options = temporalConnectionOptions(
        {
          TEMPORAL_TLS_CLIENT_CERT_PATH: 'client.pem',
          TEMPORAL_TLS_CLIENT_KEY_PATH: 'client.key',
          TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
        },
        dir,
      );
      expect(options.tls).toEqual({
        clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
        serverNameOverride: 'temporal.internal',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists configuration problems by variable name', () => {
    const attempt = (env: NodeJS.ProcessEnv): unknown => {
      try {
        return temporalConnectionOptions(env, tmpdir());
      } catch (err) {
        return err;
      }
    };
    expect(attempt({ TEMPORAL_TLS_CLIENT_CERT_PATH: 'c.pem' })).toEqual(
      new ConfigError([
        'TEMPORAL_TLS_CLIENT_KEY_PATH: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together',
      ]),
    );
    expect(attempt({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'missing-ca.pem' })).toEqual(
      new ConfigError(['TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read missing-ca.pem (ENOENT)']),
    );
    const bad = attempt({ TEMPORAL_TLS: 'maybe' }) as ConfigError;
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad.problems[0]).toMatch(/^TEMPORAL_TLS: /);
  });
});

describe('request input', () => {
  it('turns local sink paths into absolute file URLs and leaves URLs alone', () => {
    expect(sinkToUrl('./out', '/work/dir')).toBe('file:///work/dir/out');
    expect(sinkToUrl('out/a b', '/work/dir')).toBe('file:///work/dir/out/a%20b');
    expect(sinkToUrl('/abs/path', '/work/dir')).toBe('file:///abs/path');
    expect(sinkToUrl('file:///x', '/work/dir')).toBe('file:///x');
    expect(sinkToUrl('s3://bucket/p', '/work/dir')).toBe('s3://bucket/p');
    expect(resolveSinks({ output: { storage: 'PRIVATE', download: '../copy' } }, '/work/dir')).toEqual({
      output: { storage: 'PRIVATE', download: 'file:///work/copy' },
    });
    expect(resolveSinks('not an object', '/x')).toBe('not an object');
  });

  it('loads and validates a request file, naming every refused field', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dedl-request-'));
    try {
      await writeFile(
        path.join(dir, 'ok.json'),
        JSON.stringify({
          name: 'ok',
          collection: 'C',
          identifiers: ['A.SAFE'],
          output: { storage: 'TEMPORARY', sink: './o' },
        }),
      );
      const loaded = await loadRequest({ file: 'ok.json' }, dir);
      expect(loaded.input.output).toEqual({ storage: 'TEMPORARY', sink: `file://${dir}/o` });
      expect(loaded.request.polling.deadline).toBe('48h');

      await writeFile(path.join(dir, 'bad.json'), JSON.stringify({ name: '', identifiers: 'A', output: {} }));
      const refusal = await loadRequest({ file: 'bad.json' }, dir).catch((err: unknown) => err);
      expect(refusal).toBeInstanceOf(InvalidRequestError);
      const fields = (refusal as InvalidRequestError).problems.map((p) => p.slice(0, p.indexOf(':')));
      expect(fields).toEqual(expect.arrayContaining(['name', 'collection', 'identifiers', 'output.storage']));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('worker log lines', () => {
  it('are one JSON object per line, with bigints and errors made readable', () => {
    const text = logLine({
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos: 1_764_237_600_000_000_000n,
      meta: { attempt: 2n, error: new Error('connection reset'), taskQueue: 'dedl-harvest' },
    });
    expect(text).not.toContain('\n');
    expect(JSON.parse(text)).toEqual({
      time: '2025-11-27T10:00:00.000Z',
      level: 'WARN',
      message: 'Activity failed',
      attempt: '2',
      error: { name: 'Error', message: 'connection reset' },
      taskQueue: 'dedl-harvest',
    });
  });
});
