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
 *
 * Metrics: with `DEDL_METRICS_ADDRESS` the Runtime serves Prometheus `/metrics` there: the SDK's
 * own `temporal_*` metrics and ours (`dedl_*`, metrics.ts), which are made with the same Runtime
 * meter. The Runtime is installed once per process, so logging and metrics go in one install.
 */
import { IllegalStateError } from '@temporalio/common';
import { DefaultLogger, type LogEntry, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { type WorkerConfig, loadWorkerConfig } from '../config/worker-config';
import { redactText } from '../shared/redact';
import { type CreateWorkerOptions, createHarvestWorker } from './create-worker';
import { type WorkerDependencies, buildDependencies } from './dependencies';
import { createHarvestMetrics, prometheusExporter } from './metrics';
import { activityMetricsInterceptor } from './metrics-interceptor';

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
  // The Runtime comes first: the Hook clients' metrics are made with its meter.
  let credentialSecrets: () => readonly string[] = () => [];
  const metricsAddress = config.env.DEDL_METRICS_ADDRESS;
  const installed = installRuntime({
    level: config.env.LOG_LEVEL,
    secrets: () => [...configSecrets(config), ...credentialSecrets()],
    sink: options.logSink,
    metricsAddress,
  });
  const logger = Runtime.instance().logger;
  if (metricsAddress && !installed) {
    logger.warn('DEDL_METRICS_ADDRESS ignored: the Temporal Runtime of this process was set up before the worker');
  }
  const metrics = createHarvestMetrics(Runtime.instance().metricMeter);
  const deps: WorkerDependencies = buildDependencies(config, env, { hookObserver: metrics.hookObserver });
  credentialSecrets = () => deps.credentials.secrets();

  let connection: NativeConnection | undefined;
  let worker: Worker;
  try {
    connection = await NativeConnection.connect({
      address: connectionOptions.address,
      tls: connectionOptions.tls,
      apiKey: connectionOptions.apiKey,
    });
    worker = await createHarvestWorker({
      config,
      connection,
      deps,
      workflowBundle: options.workflowBundle,
      interceptors: { activity: [activityMetricsInterceptor(metrics)] },
    });
  } catch (err) {
    await Promise.allSettled([connection?.close(), deps.close()]);
    throw err;
  }

  logger.info('dedl-harvest worker ready', {
    temporal: connectionOptions.address,
    namespace: config.env.TEMPORAL_NAMESPACE,
    taskQueue: config.env.DEDL_TASK_QUEUE,
    runsWorkflows: config.env.DEDL_RUN_WORKFLOWS,
    hook: config.endpoints.odata,
    auth: config.env.HOOK_AUTH,
    credentialSets: deps.credentials.names(),
    metrics: metricsAddress && installed ? `http://${metricsAddress}/metrics` : undefined,
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

export interface RuntimeSetup {
  level: WorkerConfig['env']['LOG_LEVEL'];
  /** Every secret to scrub from log lines (read at each line: credential sets load later). */
  secrets: () => readonly string[];
  /** Where log lines go (default stderr). */
  sink?: (line: string) => void;
  /** host:port for the Prometheus `/metrics` endpoint; none when absent. */
  metricsAddress?: string;
}

/**
 * Installs the SDK Runtime with a JSON-lines logger (one object per line: time, level, message,
 * metadata) whose lines are scrubbed of every configured secret, and the Prometheus endpoint when
 * an address is given. Returns false when a Runtime was already installed (e.g. by a test harness
 * or an earlier worker in this process): its logger and metrics settings are kept.
 */
export function installRuntime(setup: RuntimeSetup): boolean {
  const { level, secrets, metricsAddress } = setup;
  const sink = setup.sink ?? ((line: string) => process.stderr.write(`${line}\n`));
  const logger = new DefaultLogger(level, (entry: LogEntry) => sink(redactText(logLine(entry), secrets())));
  try {
    Runtime.install({
      logger,
      telemetryOptions: {
        // The SDK core's own messages come through the same logger (else it prints to the console itself).
        logging: { filter: { core: level === 'INFO' ? 'WARN' : level, other: 'ERROR' }, forward: {} },
        metrics: metricsAddress ? prometheusExporter(metricsAddress) : undefined,
      },
    });
    return true;
  } catch (err) {
    // Anything else (an address already in use) is a real start-up error.
    if (err instanceof IllegalStateError) return false;
    throw err;
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
