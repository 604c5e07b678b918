/**
 * The Temporal connection, from the same variables as the worker and the Temporal CLI
 * (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`), so one `.env`
 * serves `dedl-harvest`, `dedl-harvest worker` and `temporal`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { z } from 'zod';
import { EncryptedPayloadGuard, dataConverterFromEnv } from '../codec/data-converter';
import { ConfigError, workerEnvSchema } from '../config/worker-config';

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
  tls?: TLSConfig | boolean;
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

  const custom: TLSConfig = {
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

export interface ConnectedClient {
  client: Client;
  namespace: string;
  address: string;
  close(): Promise<void>;
}

/** A Temporal client for the CLI's commands; `close()` releases the connection. */
export async function connectClient(env: NodeJS.ProcessEnv, cwd?: string): Promise<ConnectedClient> {
  const options = temporalConnectionOptions(env, cwd);
  // With DEDL_PAYLOAD_KEYS the client reads and writes encrypted payloads as the worker does;
  // without, encrypted data is refused with a message saying what to set.
  const dataConverter = dataConverterFromEnv(env) ?? { payloadCodecs: [new EncryptedPayloadGuard()] };
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: options.address,
      tls: options.tls,
      apiKey: options.apiKey,
      connectTimeout: '10s',
    });
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${options.address} (${(err as Error).message}); set TEMPORAL_ADDRESS or start one with \`dedl-harvest dev\``,
    );
  }
  const client = new Client({ connection, namespace: options.namespace, dataConverter });
  return { client, namespace: options.namespace, address: options.address, close: () => connection.close() };
}
