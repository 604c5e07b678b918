/**
 * Runs `temporal server start-dev` on loopback with free ports and a SQLite file in a scratch
 * folder — the real Temporal server (frontend, history, matching) in one process.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { startLeashed } from './leashed-process';
import { freePort, waitUntilReady } from './wait';

export interface TemporalDevServerOptions {
  binary: string;
  namespace?: string;
  /** Registered at start, e.g. `{ HarvestName: 'Keyword' }`. */
  searchAttributes?: Record<string, string>;
  /** `--dynamic-config-value` pairs; values are JSON-encoded. */
  dynamicConfig?: Record<string, unknown>;
  /** Serve the Web UI on this port (0 = pick one); omitted = headless. */
  uiPort?: number;
  /** Keep the database here instead of inside the scratch folder (survives restarts). */
  dbFile?: string;
  /** Use this gRPC port instead of a free one (e.g. to restart a server on the same address). */
  port?: number;
  startTimeoutMs?: number;
}

export interface TemporalDevServer {
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl?: string;
  readonly dbFile: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const scratchDir = await mkdtemp(path.join(tmpdir(), 'dedl-temporal-'));
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort());
  const dbFile = options.dbFile ?? path.join(scratchDir, 'temporal.db');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    // The HTTP API and metrics ports are left to the server: it picks them held back from other
    // port-0 picks the same way `freePort` does (its own freeport), and no test reads them.
    '--db-filename',
    dbFile,
    '--namespace',
    namespace,
    '--log-level',
    'warn',
  ];
  let uiUrl: string | undefined;
  if (options.uiPort === undefined) {
    args.push('--headless');
  } else {
    const uiPort = options.uiPort || (await freePort());
    args.push('--ui-ip', '127.0.0.1', '--ui-port', String(uiPort));
    uiUrl = `http://127.0.0.1:${uiPort}`;
  }
  for (const [name, type] of Object.entries(options.searchAttributes ?? {})) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }

  // The CLI reads ~/.config/temporalio profiles and TEMPORAL_* variables; the dev server must not.
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: undefined,
    TEMPORAL_NAMESPACE: undefined,
    TEMPORAL_API_KEY: undefined,
  };
  const server = startLeashed({
    command: options.binary,
    args: [...args, '--disable-config-file', '--disable-config-env'],
    scratchDir,
    env,
  });
  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilReady('Temporal dev server', () => namespaceReady(address, namespace), {
      timeoutMs: options.startTimeoutMs ?? 120_000,
      abort: server.exited,
      describeFailure: () => server.logTail(),
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { address, namespace, uiUrl, dbFile, pid: server.pid, stop: () => server.stop() };
}

async function namespaceReady(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}
