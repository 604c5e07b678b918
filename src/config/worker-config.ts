/**
 * The worker's configuration: one zod schema over environment variables (and `.env`, loaded by
 * the CLI), validated at start with every problem listed at once. Temporal connection variables
 * are the Temporal CLI's own (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
 * `TEMPORAL_TLS_*`), so one environment serves both. Pure: reading it has no side effect.
 */
import { z } from 'zod';
import { type HookEndpoints, REAL_ENDPOINTS, endpointsAt } from '../hook/endpoints';
import { parseDuration } from '../shared/duration';
import { TASK_QUEUE } from '../shared/constants';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));
const positiveInt = z.coerce.number().int().positive();
const duration = z.string().refine((v) => parseDuration(v) !== undefined, 'must be a duration like 30s or 5m');

export const workerEnvSchema = z
  .object({
    TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    TEMPORAL_TLS: bool.optional(),
    TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    DEDL_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),

    /** One origin serving every Hook service under its real path (the emulator); overrides the four below. */
    HOOK_BASE_URL: z.url().optional(),
    HOOK_ODATA_URL: z.url().default(REAL_ENDPOINTS.odata),
    DESP_IAM_URL: z.url().default(REAL_ENDPOINTS.despIam),
    DEDL_IAM_URL: z.url().default(REAL_ENDPOINTS.dedlIam),
    STAC_URL: z.url().default(REAL_ENDPOINTS.stac),

    /** How the worker gets its Hook bearer. */
    HOOK_AUTH: z.enum(['desp', 'token', 'client-credentials']).default('desp'),
    DESP_USERNAME: z.string().min(1).optional(),
    DESP_PASSWORD: z.string().min(1).optional(),
    /** Base32 TOTP secret, for DESP accounts with 2FA. */
    DESP_OTP_SECRET: z.string().min(16).optional(),
    HOOK_TOKEN: z.string().min(1).optional(),
    DEDL_CLIENT_ID: z.string().min(1).optional(),
    DEDL_CLIENT_SECRET: z.string().min(1).optional(),

    HOOK_CONNECT_TIMEOUT_MS: positiveInt.default(10_000),
    HOOK_HEADERS_TIMEOUT_MS: positiveInt.default(60_000),
    HOOK_BODY_TIMEOUT_MS: positiveInt.default(60_000),

    /** Activities running at once on this worker (downloads are further bounded per harvest). */
    DEDL_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(20),
    /** Activity starts per second on this worker: the request rate limit towards the Hook. */
    DEDL_MAX_ACTIVITIES_PER_SECOND: z.coerce.number().positive().default(10),
    DEDL_MAX_CACHED_WORKFLOWS: positiveInt.default(500),
    /** How long running downloads get to checkpoint on SIGINT/SIGTERM before they are cancelled. */
    DEDL_SHUTDOWN_GRACE_TIME: duration.default('30s'),
    /** Prebuilt workflow bundle (from `npm run build`); bundled at start when absent. */
    DEDL_WORKFLOW_BUNDLE: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    /** host:port of the worker's Prometheus endpoint (`/metrics`); no endpoint when absent. */
    DEDL_METRICS_ADDRESS: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:9464')
      .optional(),
    /**
     * Payload encryption keys, `keyId:base64key[,keyId:base64key…]` (AES-256: 32-byte keys). The
     * first encrypts; every listed key decrypts, so a key is rotated by putting the new one first.
     */
    DEDL_PAYLOAD_KEYS: z
      .string()
      .regex(
        /^[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/=]+(,[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/=]+)*$/,
        'must be keyId:base64key[,keyId:base64key…]',
      )
      .optional(),
  })
  .superRefine((env, ctx) => {
    const need = (keys: (keyof typeof env)[], why: string) => {
      for (const key of keys) if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: `required ${why}` });
    };
    if (env.HOOK_AUTH === 'desp') need(['DESP_USERNAME', 'DESP_PASSWORD'], 'when HOOK_AUTH=desp');
    if (env.HOOK_AUTH === 'token') need(['HOOK_TOKEN'], 'when HOOK_AUTH=token');
    if (env.HOOK_AUTH === 'client-credentials')
      need(['DEDL_CLIENT_ID', 'DEDL_CLIENT_SECRET'], 'when HOOK_AUTH=client-credentials');
    if (!!env.TEMPORAL_TLS_CLIENT_CERT_PATH !== !!env.TEMPORAL_TLS_CLIENT_KEY_PATH) {
      ctx.addIssue({
        code: 'custom',
        path: ['TEMPORAL_TLS_CLIENT_KEY_PATH'],
        message: 'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together',
      });
    }
  });

export type WorkerEnv = z.output<typeof workerEnvSchema>;

export interface WorkerConfig {
  env: WorkerEnv;
  endpoints: HookEndpoints;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  }
}

/** Validates the environment; throws a ConfigError listing every problem (values are never echoed). */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = workerEnvSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`));
  }
  const config = parsed.data;
  const endpoints = config.HOOK_BASE_URL
    ? endpointsAt(config.HOOK_BASE_URL)
    : {
        odata: config.HOOK_ODATA_URL,
        despIam: config.DESP_IAM_URL,
        dedlIam: config.DEDL_IAM_URL,
        stac: config.STAC_URL,
      };
  return { env: config, endpoints };
}

/** `FOO=` in a .env file means "not set", as it does for most tools. */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
  );
}
