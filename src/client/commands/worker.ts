/** `dedl-harvest worker`: run a harvest worker until Ctrl-C (or SIGTERM). */
import { runWorker } from '../../worker/main';
import type { Command } from '../command';

export const workerCommand: Command = {
  name: 'worker',
  usage: 'worker',
  summary: 'run a harvest worker (configuration from the environment and .env) until Ctrl-C or SIGTERM',
  details: [
    'Main settings (all environment variables; every problem is listed at once):',
    '  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_CLIENT_CERT_PATH/_KEY_PATH/_SERVER_CA_CERT_PATH',
    '  DEDL_TASK_QUEUE (default dedl-harvest)',
    '  HOOK_BASE_URL (one origin, e.g. the emulator) or HOOK_ODATA_URL, DESP_IAM_URL, DEDL_IAM_URL, STAC_URL (default: the real services)',
    '  HOOK_AUTH=desp (DESP_USERNAME, DESP_PASSWORD, DESP_OTP_SECRET) | token (HOOK_TOKEN) | client-credentials (DEDL_CLIENT_ID/_SECRET)',
    '  DEDL_CREDENTIALS_<NAME>_<FIELD>: credential sets that requests name (ACCESS_KEY_ID, SECRET_ACCESS_KEY, ENDPOINT, REGION, USERNAME, PASSWORD, CLIENT_ID, CLIENT_SECRET)',
    '  DEDL_MAX_CONCURRENT_ACTIVITIES, DEDL_MAX_ACTIVITIES_PER_SECOND, DEDL_SHUTDOWN_GRACE_TIME, LOG_LEVEL',
    '  DEDL_METRICS_ADDRESS (Prometheus /metrics, e.g. 0.0.0.0:9464), DEDL_PAYLOAD_KEYS (payload encryption keys)',
    "  (every variable: the README's Configuration section)",
    'Logs are JSON lines on stderr, without secrets. On SIGINT/SIGTERM running downloads get',
    'DEDL_SHUTDOWN_GRACE_TIME to checkpoint; a second signal stops at once.',
  ].join('\n'),
  flags: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    await runWorker(ctx.io.env, {
      signal: ctx.io.signal,
      cwd: ctx.io.cwd,
      logSink: (text) => ctx.io.stderr.write(`${text}\n`),
    });
    return 0;
  },
};
