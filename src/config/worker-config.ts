/**
 * The worker's configuration: one zod schema over environment variables (and `.env`, loaded by
 * the CLI), validated at start with every problem listed at once. Temporal connection variables
 * are the Temporal CLI's own (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
 * `TEMPORAL_TLS_*`), so one environment serves both. Pure: reading it has no side effect.
 *
 * Every variable carries its description (`.describe()`, last in each chain so it sits on the
 * schema the object holds): the README's configuration table is generated from this schema
 * (`src/config/config-reference.ts`), so this file is the one place a variable is documented.
 */
import { z } from 'zod';
import { type HookEndpoints, REAL_ENDPOINTS, endpointsAt } from '../hook/endpoints';
import { parseDuration } from '../shared/duration';
import { TASK_QUEUE } from '../shared/constants';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));
const positiveInt = z.coerce.number().int().positive();
const duration = z.string().refine((v) => parseDuration(v) !== undefined, 'must be a duration like 30s or 5m');

export const HOOK_AUTH_MODES = ['desp', 'token', 'client-credentials'] as const;
export type HookAuthMode = (typeof HOOK_AUTH_MODES)[number];

/** Variables each `HOOK_AUTH` mode needs; the schema enforces it and the reference lists it. */
export const AUTH_REQUIREMENTS = {
  desp: ['DESP_USERNAME', 'DESP_PASSWORD'],
  token: ['HOOK_TOKEN'],
  'client-credentials': ['DEDL_CLIENT_ID', 'DEDL_CLIENT_SECRET'],
} as const satisfies Record<HookAuthMode, readonly string[]>;

/** Variables that are given both or neither. */
export const REQUIRED_TOGETHER = [['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH']] as const;

export const workerEnvSchema = z
  .object({
    TEMPORAL_ADDRESS: z
      .string()
      .min(1)
      .default('localhost:7233')
      .describe('host:port of the Temporal frontend (gRPC).'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('Temporal namespace of every harvest.'),
    TEMPORAL_API_KEY: z
      .string()
      .min(1)
      .optional()
      .describe('API key for Temporal Cloud; switches TLS on unless `TEMPORAL_TLS=false`.'),
    TEMPORAL_TLS: bool
      .optional()
      .describe('Force TLS on or off. Unset: on when an API key or a TLS file/server name is given, off otherwise.'),
    TEMPORAL_TLS_CLIENT_CERT_PATH: z
      .string()
      .min(1)
      .optional()
      .describe('Client certificate (PEM) for mTLS; a relative path is resolved from the working directory.'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional().describe('Private key (PEM) of the client certificate.'),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: z
      .string()
      .min(1)
      .optional()
      .describe("CA certificate (PEM) to verify the server with, instead of the system's roots."),
    TEMPORAL_TLS_SERVER_NAME: z
      .string()
      .min(1)
      .optional()
      .describe('Server name expected in the server certificate, when it differs from the address host.'),
    DEDL_TASK_QUEUE: z
      .string()
      .min(1)
      .default(TASK_QUEUE)
      .describe('Task queue the worker polls; clients must start harvests on the same queue.'),
    DEDL_RUN_WORKFLOWS: bool
      .default(true)
      .describe(
        'Run workflows as well as activities; `false` makes a download worker for the queue a request names in `downloadTaskQueue`.',
      ),

    HOOK_BASE_URL: z
      .url()
      .optional()
      .describe(
        'One origin serving every Hook service under its real path (the emulator); overrides the four URLs below.',
      ),
    HOOK_ODATA_URL: z.url().default(REAL_ENDPOINTS.odata).describe("The Hook's OData order API."),
    DESP_IAM_URL: z.url().default(REAL_ENDPOINTS.despIam).describe('DESP identity provider (login form, OTP).'),
    DEDL_IAM_URL: z
      .url()
      .default(REAL_ENDPOINTS.dedlIam)
      .describe('DEDL identity provider (token exchange, client credentials).'),
    STAC_URL: z.url().default(REAL_ENDPOINTS.stac).describe('STAC catalogue that campaigns search.'),

    HOOK_AUTH: z
      .enum(HOOK_AUTH_MODES)
      .default('desp')
      .describe(
        'How the worker gets its Hook bearer: DESP login exchanged for a DEDL token, a fixed token, or a DEDL service account.',
      ),
    DESP_USERNAME: z.string().min(1).optional().describe('DESP account name (also the `desp` credential set).'),
    DESP_PASSWORD: z.string().min(1).optional().describe('DESP account password.'),
    DESP_OTP_SECRET: z.string().min(16).optional().describe('Base32 TOTP secret, for DESP accounts with 2FA.'),
    HOOK_TOKEN: z.string().min(1).optional().describe('A DEDL bearer token used as is (not renewed).'),
    DEDL_CLIENT_ID: z.string().min(1).optional().describe('DEDL service-account client id.'),
    DEDL_CLIENT_SECRET: z.string().min(1).optional().describe('DEDL service-account client secret.'),

    HOOK_CONNECT_TIMEOUT_MS: positiveInt
      .default(10_000)
      .describe('Milliseconds to open a connection to a Hook service.'),
    HOOK_HEADERS_TIMEOUT_MS: positiveInt.default(60_000).describe("Milliseconds to wait for a response's headers."),
    HOOK_BODY_TIMEOUT_MS: positiveInt
      .default(60_000)
      .describe('Milliseconds a response body may stay silent (between two chunks).'),

    DEDL_MAX_CONCURRENT_ACTIVITIES: positiveInt
      .default(20)
      .describe('Activities running at once on this worker (downloads are further bounded per harvest).'),
    DEDL_CONNECTIONS_PER_PRODUCT: positiveInt
      .max(16)
      .default(4)
      .describe(
        'Most parallel ranged connections per product download (local or S3 sink) when the request sets no `connectionsPerProduct` (adaptive: starts at 2, more while the rate grows, fewer after a 429/503); 1 = one stream. The default applies to products of at least `DEDL_RANGED_MIN_BYTES`, into local and S3 sinks alike.',
      ),
    DEDL_RANGED_MIN_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .default(128 * 1024 * 1024)
      .describe(
        "Smallest product (by the Hook's ProcessedSize) that `DEDL_CONNECTIONS_PER_PRODUCT` applies to; smaller or unknown sizes take one stream unless the request sets `connectionsPerProduct`.",
      ),
    DEDL_RANGE_BYTES: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .default(8 * 1024 * 1024)
      .describe(
        'Bytes asked for by one ranged GET of a parallel delivery (into S3 at least 5 MiB, one part per range).',
      ),
    DEDL_MAX_EXTRA_CONNECTIONS: z.coerce
      .number()
      .int()
      .min(0)
      .default(16)
      .describe(
        "Ranged connections of all this worker's downloads together beyond the first of each (the account's limit on parallel connections).",
      ),
    DEDL_MAX_ACTIVITIES_PER_SECOND: z.coerce
      .number()
      .positive()
      .default(10)
      .describe('Activity starts per second on this worker: the request rate limit towards the Hook.'),
    DEDL_MAX_CACHED_WORKFLOWS: positiveInt
      .default(500)
      .describe('Workflow executions kept in memory (sticky cache); fewer means more replays.'),
    DEDL_SHUTDOWN_GRACE_TIME: duration
      .default('30s')
      .describe('How long running downloads get to checkpoint on SIGINT/SIGTERM before they are cancelled.'),
    DEDL_WORKFLOW_BUNDLE: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Prebuilt workflow bundle (`npm run bundle:workflows`); the workflows are bundled at start when unset.',
      ),
    LOG_LEVEL: z
      .enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'])
      .default('INFO')
      .describe('Lowest level of the JSON log lines on stderr.'),
    DEDL_METRICS_ADDRESS: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:9464')
      .optional()
      .describe("host:port of the worker's Prometheus endpoint (`/metrics`); no endpoint when unset."),
    DEDL_PAYLOAD_KEYS: z
      .string()
      .regex(
        /^[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/=]+(,[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/=]+)*$/,
        'must be keyId:base64key[,keyId:base64key…]',
      )
      .optional()
      .describe(
        'Payload encryption keys, `keyId:base64key[,…]` (AES-256: 32-byte keys). The first encrypts; every listed key decrypts, so a key is rotated by putting the new one first. Payloads are not encrypted when unset.',
      ),
  })
  .superRefine((env, ctx) => {
    const need = (keys: readonly (keyof typeof env)[], why: string) => {
      for (const key of keys) if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: `required ${why}` });
    };
    need(AUTH_REQUIREMENTS[env.HOOK_AUTH], `when HOOK_AUTH=${env.HOOK_AUTH}`);
    for (const [first, second] of REQUIRED_TOGETHER) {
      if (!!env[first] !== !!env[second]) {
        ctx.addIssue({ code: 'custom', path: [second], message: `${first} and ${second} go together` });
      }
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
