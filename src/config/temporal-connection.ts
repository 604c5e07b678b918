/**
 * The Temporal connection settings, from the same variables as the Temporal CLI
 * (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`), so one `.env`
 * serves `dedl-harvest`, `dedl-harvest worker` and `temporal`. Both the CLI's client
 * (`client/connect.ts`) and the worker (`worker/main.ts`) read them here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, workerEnvSchema } from './worker-config';

/**
 * The TLS settings both connections take; the same shape as the SDK's `TLSConfig`, written out so
 * that configuration does not depend on Temporal.
 */
export interface TemporalTlsConfig {
  clientCertPair?: { crt: Buffer; key: Buffer };
  serverRootCACertificate?: Buffer;
  serverNameOverride?: string;
}

const temporalEnvSchema = z.object({
  TEMPORAL_ADDRESS: workerEnvSchema.shape.TEMPORAL_ADDRESS,
  TEMPORAL_NAMESPACE: workerEnvSchema.shape.TEMPORAL_NAMESPACE,
  TEMPORAL_API_KEY: workerEnvSchema.shape.TEMPORAL_API_KEY,
  TEMPORAL_TLS: workerEnvSchema.shape.TEMPORAL_TLS,
  TEMPORAL_TLS_CLIENT_CERT_PATH: workerEnvSchema.shape.TEMPORAL_TLS_CLIENT_CERT_PATH,
  TEMPORAL_TLS_CLIENT_KEY_PATH: workerEnvSchema.shape.TEMPORAL_TLS_CLIENT_KEY_PATH,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: workerEnvSchema.shape.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
  TEMPORAL_TLS_SERVER_NAME: workerEnvSchema.shape.TEMPORAL_TLS_SERVER_NAME,
});

/** What both `Connection.connect` (client) and `NativeConnection.connect` (worker) take. */
export interface TemporalConnectionOptions {
  address: string;
  namespace: string;
  tls?: TemporalTlsConfig | boolean;
  apiKey?: string;
}

/**
 * Reads the Temporal variables; throws a ConfigError listing every problem. TLS is on when asked
 * for (`TEMPORAL_TLS=true`), when certificate files are given, or with an API key (Temporal Cloud);
 * `TEMPORAL_TLS=false` switches it off.
 */
export function temporalConnectionOptions(env: NodeJS.ProcessEnv, cwd = process.cwd()): TemporalConnectionOptions {
  const parsed = temporalEnvSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([key, value]) => key.startsWith('TEMPORAL_') && value !== '')),
  );
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`));
  }
  const e = parsed.data;
  if (!!e.TEMPORAL_TLS_CLIENT_CERT_PATH !== !!e.TEMPORAL_TLS_CLIENT_KEY_PATH) {
    throw new ConfigError([
      'TEMPORAL_TLS_CLIENT_KEY_PATH: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together',
    ]);
  }
  const problems: string[] = [];
  const read = (name: keyof typeof e): Buffer | undefined => {
    const file = e[name];
    if (typeof file !== 'string') return undefined;
    try {
      return readFileSync(path.resolve(cwd, file));
    } catch (err) {
      problems.push(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  const crt = read('TEMPORAL_TLS_CLIENT_CERT_PATH');
  const key = read('TEMPORAL_TLS_CLIENT_KEY_PATH');
  const ca = read('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  if (problems.length > 0) throw new ConfigError(problems);

  const custom: TemporalTlsConfig = {
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: e.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
  const wantsTls = e.TEMPORAL_TLS ?? (Object.keys(custom).length > 0 || !!e.TEMPORAL_API_KEY);
  return {
    address: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    tls: wantsTls ? custom : false,
    ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
  };
}
