/**
 * The CLI's Temporal client, connected with the settings the worker uses too
 * (`config/temporal-connection.ts`: `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
 * `TEMPORAL_TLS*`).
 */
import { Client, Connection } from '@temporalio/client';
import { EncryptedPayloadGuard, dataConverterFromEnv } from '../codec/data-converter';
import { temporalConnectionOptions } from '../config/temporal-connection';

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
