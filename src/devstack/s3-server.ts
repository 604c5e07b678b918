/**
 * Runs versitygw (posix backend) on loopback: an S3 server with real SigV4 signature checks,
 * storing objects as files in a scratch folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { startLeashed } from './leashed-process';
import { freePort, waitUntilReady } from './wait';

export interface S3ServerOptions {
  binary: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  port?: number;
  startTimeoutMs?: number;
}

export interface S3Endpoint {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface S3Server extends S3Endpoint {
  /** Where the objects live on disk (bucket = folder), for tests that look for leftovers. */
  readonly dataDir: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const scratchDir = await mkdtemp(path.join(tmpdir(), 'dedl-s3-'));
  const dataDir = path.join(scratchDir, 'data');
  const metaDir = path.join(scratchDir, 'meta');
  await Promise.all([mkdir(dataDir), mkdir(metaDir)]);
  const port = options.port ?? (await freePort());
  const accessKeyId = options.accessKeyId ?? `AK${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = options.secretAccessKey ?? randomBytes(24).toString('base64url');
  const region = options.region ?? 'us-east-1';
  const args = [
    '--port',
    `127.0.0.1:${port}`,
    '--region',
    region,
    '--keep-alive',
    '--quiet',
    'posix',
    '--sidecar',
    metaDir,
    dataDir,
  ];
  // Keys go through the environment, not argv, so `ps` does not show the secret.
  const env = { ...process.env, ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey };
  const server = startLeashed({ command: options.binary, args, scratchDir, env });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady('versitygw', () => answers(endpoint), {
      timeoutMs: options.startTimeoutMs ?? 30_000,
      abort: server.exited,
      describeFailure: () => server.logTail(),
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { endpoint, region, accessKeyId, secretAccessKey, dataDir, pid: server.pid, stop: () => server.stop() };
}

/** Any HTTP answer (an unsigned request gets 403) means the server is listening. */
async function answers(endpoint: string): Promise<boolean> {
  const response = await request(endpoint, { method: 'GET', headersTimeout: 1_000 });
  await response.body.dump();
  return response.statusCode > 0;
}
