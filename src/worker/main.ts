/**
 * The worker process (`dedl-harvest worker`): configuration from the environment, structured
 * logs without secrets, a connection to Temporal (address, namespace, TLS files or API key), the
 * harvest worker, and a graceful stop.
 *
 * Shutdown: the SDK's Runtime listens for SIGINT, SIGTERM, SIGQUIT and SIGUSR2 by default and
 * calls `shutdown()` on every worker, which stops polling and gives running activities
 * `DEDL_SHUTDOWN_GRACE_TIME` to finish or heartbeat their checkpoint before they are cancelled (a
 * download keeps its partial file and the next attempt resumes it). `run()` then resolves and the
 * connection and HTTP agent are closed here. A second signal ends the process at once.
 */
import { DefaultLogger, type LogEntry, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { temporalConnectionOptions } from '../client/connect';
import { type WorkerConfig, loadWorkerConfig } from '../config/worker-config';
import { redactText } from '../shared/redact';
import { createHarvestWorker } from './create-worker';
import { type WorkerDependencies, buildDependencies } from './dependencies';
import type { CreateWorkerOptions } from './create-worker';

export interface StartWorkerOptions {
  /** Stops the worker as SIGINT does (in-process runs of the CLI, tests). */
  signal?: AbortSignal;
  /** Where relative TLS file paths are resolved. */
  cwd?: string;
  /** A workflow bundle built once (dev, demo); bundled at start otherwise. */
  workflowBundle?: CreateWorkerOptions['workflowBundle'];
  /** Where log lines go when this call installs the logger (default stderr). */
  logSink?: (line: string) => void;
}

export interface RunningWorker {
  worker: Worker;
  config: WorkerConfig;
  /** Settles when the worker has stopped and everything it held is closed. */
  done: Promise<void>;
  /** Asks the worker to stop (graceful) and waits until it has. */
  stop(): Promise<void>;
}

/** Starts a harvest worker from `env`; throws ConfigError listing every configuration problem. */
export async function startWorker(env: NodeJS.ProcessEnv, options: StartWorkerOptions = {}): Promise<RunningWorker> {
  const config = loadWorkerConfig(env);
  const connectionOptions = temporalConnectionOptions(env, options.cwd);
  const deps: WorkerDependencies = buildDependencies(config, env);
  const secrets = () => [...configSecrets(config), ...deps.credentials.secrets()];
  installLogging(config.env.LOG_LEVEL, secrets, options.logSink);

  let connection: NativeConnection | undefined;
  let worker: Worker;
  try {
    connection = await NativeConnection.connect({
      address: connectionOptions.address,
      tls: connectionOptions.tls,
      apiKey: connectionOptions.apiKey,
    });
    worker = await createHarvestWorker({ config, connection, deps, workflowBundle: options.workflowBundle });
  } catch (err) {
    await Promise.allSettled([connection?.close(), deps.close()]);
    throw err;
  }

  const logger = Runtime.instance().logger;
  logger.info('dedl-harvest worker ready', {
    temporal: connectionOptions.address,
    namespace: config.env.TEMPORAL_NAMESPACE,
    taskQueue: config.env.DEDL_TASK_QUEUE,
    hook: config.endpoints.odata,
    auth: config.env.HOOK_AUTH,
    credentialSets: deps.credentials.names(),
  });

  const stopWorker = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  options.signal?.addEventListener('abort', stopWorker, { once: true });
  const done = worker.run().finally(async () => {
    options.signal?.removeEventListener('abort', stopWorker);
    await Promise.allSettled([connection.close(), deps.close()]);
    logger.info('dedl-harvest worker stopped', { taskQueue: config.env.DEDL_TASK_QUEUE });
  });
  return {
    worker,
    config,
    done,
    stop: async () => {
      stopWorker();
      await done;
    },
  };
}

/** Runs a worker until SIGINT/SIGTERM (or `options.signal`); resolves once it stopped cleanly. */
export async function runWorker(env: NodeJS.ProcessEnv = process.env, options: StartWorkerOptions = {}): Promise<void> {
  const running = await startWorker(env, options);
  await running.done;
}

/**
 * Installs the SDK Runtime with a JSON-lines logger (one object per line: time, level, message,
 * metadata) whose lines are scrubbed of every configured secret. Returns false when a Runtime
 * was already installed (e.g. by a test harness or an earlier worker in this process): its logger
 * is kept.
 */
export function installLogging(
  level: WorkerConfig['env']['LOG_LEVEL'],
  secrets: () => readonly string[],
  sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): boolean {
  const logger = new DefaultLogger(level, (entry: LogEntry) => sink(redactText(logLine(entry), secrets())));
  try {
    Runtime.install({
      logger,
      // The SDK core's own messages come through the same logger (else it prints to the console itself).
      telemetryOptions: {
        logging: { filter: { core: level === 'INFO' ? 'WARN' : level, other: 'ERROR' }, forward: {} },
      },
    });
    return true;
  } catch {
    return false;
  }
}

/** One log entry as a JSON object on one line. */
export function logLine(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return JSON.stringify({ time, level: entry.level, message: entry.message, ...entry.meta }, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return { name: value.name, message: value.message };
    return value;
  });
}

function configSecrets(config: WorkerConfig): string[] {
  const e = config.env;
  return [
    e.DESP_PASSWORD,
    e.DESP_OTP_SECRET,
    e.HOOK_TOKEN,
    e.DEDL_CLIENT_SECRET,
    e.TEMPORAL_API_KEY,
    e.DEDL_PAYLOAD_KEYS,
  ].filter((v): v is string => !!v);
}
