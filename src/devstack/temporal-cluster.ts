/**
 * A real Temporal cluster on loopback, as production runs it: PostgreSQL for persistence and
 * visibility, the schemas applied with Temporal's SQL tool, and the server's four services —
 * frontend, history, matching, worker — as separate processes, from one configuration file
 * (deploy/temporal/config.yaml) that docker-compose.yml uses too, like the two setup scripts.
 *
 * Differences from the dev server that this handles: the namespace must be created, and a search
 * attribute is only usable a moment after it is registered (setup-namespace.sh waits for it).
 * Every process is leashed: nothing is left behind, even if we are killed.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type LeashedProcess, startLeashed } from './leashed-process';
import { type PostgresServer, startPostgres } from './postgres';
import { PROJECT_ROOT } from './tools';
import { freeLowPort, freePort, waitUntilReady } from './wait';

const execFileAsync = promisify(execFile);

export const CLUSTER_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ClusterServiceName = (typeof CLUSTER_SERVICES)[number];

/** The files shared with docker-compose.yml. */
export const CLUSTER_DEPLOY_DIR = path.join(PROJECT_ROOT, 'deploy', 'temporal');

export interface TemporalClusterOptions {
  /** The built binaries (see tools.ts: TEMPORAL_SERVER, TEMPORAL_SQL_TOOL, TEMPORAL_CLI). */
  serverBinary: string;
  sqlToolBinary: string;
  cliBinary: string;
  namespace?: string;
  /** Registered after start, e.g. `{ HarvestName: 'Keyword' }`, and waited for until usable. */
  searchAttributes?: Record<string, string>;
  /** Dynamic config values, e.g. `{ 'limit.maxIDLength': 1000 }`. */
  dynamicConfig?: Record<string, unknown>;
  log?: (line: string) => void;
}

/** One service process; it can be stopped, killed (SIGKILL, no goodbye) and started again. */
export interface ClusterService {
  readonly name: ClusterServiceName;
  /** The server process itself (not its leash): the one to SIGKILL. */
  serverPid(): Promise<number>;
  /** SIGKILL the server process and wait until it is gone. */
  kill(): Promise<void>;
  /** A graceful stop (SIGTERM), waiting for the process to exit. */
  stop(): Promise<void>;
  /** Starts the service again on the same ports; resolves once it is running. */
  start(): Promise<void>;
}

export interface TemporalCluster {
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl?: string;
  readonly postgres: PostgresServer;
  readonly services: Record<ClusterServiceName, ClusterService>;
  /** How long each step of the start took, in ms (for the README's numbers). */
  readonly startup: Record<'postgres' | 'schema' | 'services' | 'namespace', number>;
  stop(): Promise<void>;
}

export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const log = options.log ?? (() => undefined);
  const namespace = options.namespace ?? 'default';
  const root = await mkdtemp(path.join(tmpdir(), 'dedl-cluster-'));
  // Holds the cluster's folder: when we die, every leash stops its server at once, and this one
  // removes the folder once the others had time to stop writing into it (up to 8 s; at once when
  // the folder is already gone, as after a deliberate stop).
  const holder = startLeashed({
    command: process.execPath,
    args: ['-e', HOLDER_SCRIPT, root],
    scratchDir: root,
  });
  const started: { stop(): Promise<void> }[] = [];
  const startup = { postgres: 0, schema: 0, services: 0, namespace: 0 };
  const timed = async <T>(step: keyof typeof startup, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      startup[step] = Date.now() - t0;
    }
  };
  try {
    const postgres = await timed('postgres', () => startPostgres({ dir: path.join(root, 'postgres'), log }));
    started.push(postgres);
    const sqlEnv = {
      SQL_HOST: postgres.host,
      SQL_PORT: String(postgres.port),
      SQL_USER: postgres.user,
      SQL_PASSWORD: postgres.password,
    };
    await timed('schema', () =>
      runScript('setup-schema.sh', { ...sqlEnv, TEMPORAL_SQL_TOOL: options.sqlToolBinary }, root),
    );

    const ports = await servicePorts();
    const dynamicConfigFile = path.join(root, 'dynamic-config.yaml');
    await writeFile(dynamicConfigFile, dynamicConfigYaml(options.dynamicConfig ?? {}));
    const baseEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...sqlEnv,
      ...ports.env,
      DYNAMIC_CONFIG_FILE: dynamicConfigFile,
      LOG_LEVEL: process.env.TEMPORAL_LOG_LEVEL ?? 'warn',
    };
    const services = Object.fromEntries(
      CLUSTER_SERVICES.map((name) => [
        name,
        clusterService(name, {
          binary: options.serverBinary,
          configFile: path.join(CLUSTER_DEPLOY_DIR, 'config.yaml'),
          env: { ...baseEnv, METRICS_PORT: String(ports.metrics[name]) },
          logFile: path.join(root, `${name}.log`),
        }),
      ]),
    ) as Record<ClusterServiceName, ReturnType<typeof clusterService>>;
    started.push({ stop: () => stopAll(services) });
    const address = `127.0.0.1:${ports.env.FRONTEND_GRPC_PORT}`;
    // One service first: each writes the cluster's metadata row at its first start, and two doing
    // it at once fail ("failed to initialize current cluster metadata"). The rest then together.
    await timed('services', async () => {
      await services.history.start();
      await Promise.all(CLUSTER_SERVICES.filter((n) => n !== 'history').map((name) => services[name].start()));
    });

    await timed('namespace', () =>
      runScript(
        'setup-namespace.sh',
        {
          TEMPORAL_ADDRESS: address,
          NAMESPACE: namespace,
          RETENTION: '24h',
          SEARCH_ATTRIBUTES: Object.entries(options.searchAttributes ?? {})
            .map(([name, type]) => `${name}=${type}`)
            .join(' '),
          TEMPORAL_CLI: options.cliBinary,
        },
        root,
      ),
    );
    log(
      `Temporal cluster at ${address} (PostgreSQL ${startup.postgres} ms, schema ${startup.schema} ms, ` +
        `services ${startup.services} ms, namespace ${startup.namespace} ms)`,
    );
    return {
      address,
      namespace,
      postgres,
      services,
      startup,
      async stop() {
        await stopAll(services);
        await postgres.stop();
        await rm(root, { recursive: true, force: true });
        await holder.stop();
      },
    };
  } catch (err) {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    await holder.stop();
    throw err;
  }
}

/** The holder's process: idle; asked to stop, it waits until its folder is gone or 8 s passed. */
const HOLDER_SCRIPT = `
const { existsSync } = require('node:fs');
const dir = process.argv[1];
setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => {
  const until = Date.now() + 8000;
  setInterval(() => (!existsSync(dir) || Date.now() > until) && process.exit(0), 100);
});`;

interface ServiceSpec {
  binary: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}

/**
 * One service process under a supervisor, as systemd or Kubernetes would run it in production: a
 * server that exits on its own (a service refuses to start while PostgreSQL is down, for instance)
 * is started again after a second, up to 10 times after each `start()`. `stop()` and `kill()` are
 * deliberate: nothing is restarted after them.
 */
function clusterService(name: ClusterServiceName, spec: ServiceSpec): ClusterService {
  let current: LeashedProcess | undefined;
  let wanted = false;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  const serverPid = async (): Promise<number> => {
    if (!current) throw new Error(`${name} is not running`);
    return pidOf(current);
  };
  const launch = (): LeashedProcess => {
    const running = startLeashed({
      command: spec.binary,
      args: ['--config-file', spec.configFile, '--allow-no-auth', 'start', '--service', name],
      scratchDir: '-',
      logFile: spec.logFile,
      env: spec.env,
    });
    current = running;
    void running.exited.then(() => {
      void running.stop(); // releases its log (a deliberate stop shares this one)
      if (current !== running || !wanted || restarts >= 10) return;
      restarts++;
      current = undefined;
      restartTimer = setTimeout(() => wanted && launch(), 1000);
      restartTimer.unref();
    });
    return running;
  };
  const deliberately = async (end: (running: LeashedProcess) => Promise<void>) => {
    wanted = false;
    clearTimeout(restartTimer);
    const running = current;
    current = undefined;
    if (running) await end(running);
  };
  return {
    name,
    serverPid,
    kill: () =>
      deliberately(async (running) => {
        process.kill(await pidOf(running), 'SIGKILL');
        await running.stop();
      }),
    stop: () => deliberately((running) => running.stop()),
    async start() {
      restarts = 0;
      const running = launch();
      // The frontend is up when its gRPC port answers; the others when they listen for membership.
      const port = Number(spec.env[`${name.toUpperCase()}_${name === 'frontend' ? 'GRPC' : 'MEMBERSHIP'}_PORT`]);
      await waitUntilReady(`Temporal ${name}`, () => listening(port), {
        timeoutMs: 60_000,
        abort: running.exited,
        describeFailure: () => running.logTail(),
      });
      // Supervised from now on; a start that fails is reported to the caller instead.
      wanted = true;
    },
  };
}

/** The server process of a leash (its only child), the one to SIGKILL. */
async function pidOf(leash: LeashedProcess): Promise<number> {
  const children = await readFile(`/proc/${leash.pid}/task/${leash.pid}/children`, 'utf8');
  const pid = Number(children.trim().split(/\s+/)[0]);
  if (!pid) throw new Error('the leash has no server process');
  return pid;
}

async function stopAll(services: Record<ClusterServiceName, ClusterService>): Promise<void> {
  // The frontend first, so that no new work arrives while the others stop.
  for (const name of ['frontend', 'worker', 'matching', 'history'] as const) await services[name].stop();
}

/** Free ports for every service's gRPC and membership listeners (and the frontend's HTTP API). */
async function servicePorts() {
  const env: Record<string, string> = {};
  const metrics = {} as Record<ClusterServiceName, number>;
  for (const name of CLUSTER_SERVICES) {
    const prefix = name.toUpperCase();
    env[`${prefix}_GRPC_PORT`] = String(await freePort());
    env[`${prefix}_MEMBERSHIP_PORT`] = String(await freeLowPort());
    metrics[name] = await freePort();
  }
  env.FRONTEND_HTTP_PORT = String(await freePort());
  return { env, metrics };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function dynamicConfigYaml(values: Record<string, unknown>): string {
  const lines = Object.entries(values).map(
    ([key, value]) => `${key}:\n  - value: ${JSON.stringify(value)}\n    constraints: {}`,
  );
  return `${lines.join('\n')}\n`;
}

async function runScript(script: string, env: Record<string, string>, cwd: string): Promise<void> {
  try {
    await execFileAsync('sh', [path.join(CLUSTER_DEPLOY_DIR, script)], {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`${script} failed: ${String(err)}\n${stdout}${stderr}`.slice(0, 4000));
  }
}
