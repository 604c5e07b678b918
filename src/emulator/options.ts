/**
 * Options of {@link startEmulator}, as one zod schema: the CLI parses its flags and JSON into it,
 * tests pass plain objects. Every field has a default, so `startEmulator()` works as is.
 */
import { z } from 'zod';
import { type Clock } from './clock';
import { faultsSchema } from './faults';
import { isBase32Secret } from '../hook/totp';
import { HOOK_DIALECTS } from './workflows-fixture';

/** Quota roles and what they grant (docs/hook-api.md §10). */
export const QUOTA_ROLES = {
  'hook-low': { maxParallelItems: 1, monthlyOrders: 25 },
  'hook-medium': { maxParallelItems: 2, monthlyOrders: 1000 },
  'hook-high': { maxParallelItems: 5, monthlyOrders: 1000 },
} as const;

/** The role without which ODP answers 403. */
export const HOOK_ACCESS_ROLE = 'hook-workflows';

export const accountSchema = z
  .object({
    /** DESP user name (login also accepts `email`). */
    username: z.string().min(1).describe('DESP user name (login also accepts `email`).'),
    /** DESP password. */
    password: z.string().describe('DESP password.'),
    /** E-mail address, also accepted as login name. Default `<username>@example.org`. */
    email: z
      .string()
      .optional()
      .describe('E-mail address, also accepted as login name. Default `<username>@example.org`.'),
    /** Realm roles put into `realm_access.roles`. Default `['hook-workflows', 'hook-high']`. */
    roles: z
      .array(z.string())
      .default([HOOK_ACCESS_ROLE, 'hook-high'])
      .describe("Realm roles put into `realm_access.roles`. Default `['hook-workflows', 'hook-high']`."),
    /** Base32 TOTP secret: the login asks for an OTP (RFC 6238, SHA1, 6 digits, 30 s). */
    otpSecret: z
      .string()
      .refine(isBase32Secret, { message: 'otpSecret must be a base32 string' })
      .optional()
      .describe('Base32 TOTP secret: the login asks for an OTP (RFC 6238, SHA1, 6 digits, 30 s).'),
    /** A fixed OTP code accepted for this account (simpler than a secret in tests). */
    otpCode: z
      .string()
      .min(1)
      .optional()
      .describe('A fixed OTP code accepted for this account (simpler than a secret in tests).'),
    /** Overrides the parallel-items quota of the account's quota role. */
    maxParallelItems: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Overrides the parallel-items quota of the account's quota role."),
    /** Overrides the monthly order quota of the account's quota role. */
    monthlyOrders: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Overrides the monthly order quota of the account's quota role."),
  })
  .strict();
export type Account = z.infer<typeof accountSchema>;

export const serviceAccountSchema = z
  .object({
    /** Client id used with `grant_type=client_credentials` at the DEDL token endpoint. */
    clientId: z
      .string()
      .min(1)
      .describe('Client id used with `grant_type=client_credentials` at the DEDL token endpoint.'),
    /** Client secret (form field `client_secret` or HTTP Basic). */
    clientSecret: z.string().min(1).describe('Client secret (form field `client_secret` or HTTP Basic).'),
    /** Realm roles of the service account. Default `['hook-workflows', 'hook-high']`. */
    roles: z
      .array(z.string())
      .default([HOOK_ACCESS_ROLE, 'hook-high'])
      .describe("Realm roles of the service account. Default `['hook-workflows', 'hook-high']`."),
    /** Overrides the parallel-items quota of the service account's quota role. */
    maxParallelItems: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Overrides the parallel-items quota of the service account's quota role."),
    /** Overrides the monthly order quota of the service account's quota role. */
    monthlyOrders: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Overrides the monthly order quota of the service account's quota role."),
  })
  .strict();
export type ServiceAccount = z.infer<typeof serviceAccountSchema>;

/** The documented default account. */
export const DEFAULT_ACCOUNT: Account = {
  username: 'demo',
  password: 'demo',
  email: 'demo@example.org',
  roles: [HOOK_ACCESS_ROLE, 'hook-high'],
};

export type ProductSizeFn = (identifier: string) => number;

const productSizeSchema = z.union([
  z.number().int().positive(),
  z.custom<ProductSizeFn>((v) => typeof v === 'function', { message: 'productSize must be a number or a function' }),
]);

const clockSchema = z.custom<Clock>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Clock).now === 'function' &&
    typeof (v as Clock).setTimeout === 'function',
  { message: 'clock must have now() and setTimeout()' },
);

export const timingSchema = z
  .object({
    /** Time an item stays `queued` before it may start (quota permitting), in ms. Default 200. */
    queuedMs: z
      .number()
      .min(0)
      .default(200)
      .describe('Time an item stays `queued` before it may start (quota permitting), in ms. Default 200.'),
    /** Time an item stays `in_progress` before it ends, in ms. Default 500. */
    processingMs: z
      .number()
      .min(0)
      .default(500)
      .describe('Time an item stays `in_progress` before it ends, in ms. Default 500.'),
  })
  .strict();

export const emulatorOptionsSchema = z
  .object({
    /** Interface to bind. Default `127.0.0.1` (loopback only). */
    host: z.string().default('127.0.0.1').describe('Interface to bind. Default `127.0.0.1` (loopback only).'),
    /** TCP port; 0 picks a free one. Default 0. */
    port: z.number().int().min(0).max(65535).default(0).describe('TCP port; 0 picks a free one. Default 0.'),
    /**
     * Public base URL written into login-form actions, issuers and download links, when the
     * emulator sits behind a proxy. Default: `http://<host>:<bound port>`.
     */
    publicUrl: z
      .string()
      .url()
      .optional()
      .describe(
        'Public base URL written into login-form actions, issuers and download links, when the emulator sits behind a proxy. Default: `http://<host>:<bound port>`.',
      ),
    /** Whether the default `demo`/`demo` account (hook-workflows + hook-high) exists. Default true. */
    includeDefaultAccount: z
      .boolean()
      .default(true)
      .describe('Whether the default `demo`/`demo` account (hook-workflows + hook-high) exists. Default true.'),
    /** More DESP accounts. Default none. */
    accounts: z.array(accountSchema).default([]).describe('More DESP accounts. Default none.'),
    /** DEDL service accounts (client_credentials). Default none. */
    serviceAccounts: z
      .array(serviceAccountSchema)
      .default([])
      .describe('DEDL service accounts (client_credentials). Default none.'),
    /** Lifetime of access tokens (DESP and DEDL), in seconds. Default 300 (Keycloak's default). */
    tokenLifetimeSec: z
      .number()
      .int()
      .min(1)
      .default(300)
      .describe("Lifetime of access tokens (DESP and DEDL), in seconds. Default 300 (Keycloak's default)."),
    /** Lifetime of DESP refresh tokens, in seconds. Default 1800. */
    refreshTokenLifetimeSec: z
      .number()
      .int()
      .min(1)
      .default(1800)
      .describe('Lifetime of DESP refresh tokens, in seconds. Default 1800.'),
    /** Lifecycle delays of order items. Default `{ queuedMs: 200, processingMs: 500 }`. */
    timing: timingSchema
      .default({ queuedMs: 200, processingMs: 500 })
      .describe('Lifecycle delays of order items. Default `{ queuedMs: 200, processingMs: 500 }`.'),
    /** Byte size of each product zip: a number, or a function of the identifier. Default 65536. */
    productSize: productSizeSchema
      .default(64 * 1024)
      .describe('Byte size of each product zip: a number, or a function of the identifier. Default 65536.'),
    /** Items per collection of the generated STAC catalogue. Default: the catalogue's own default. */
    catalogueItemsPerCollection: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Items per collection of the generated STAC catalogue. Default: the catalogue's own default."),
    /** Lifetime of TEMPORARY download links, in seconds. Default 1 209 600 (14 days). */
    linkLifetimeSec: z
      .number()
      .int()
      .min(1)
      .default(14 * 24 * 3600)
      .describe('Lifetime of TEMPORARY download links, in seconds. Default 1 209 600 (14 days).'),
    /** Swift TempURL key signing the links. Default: random per start (kept in the state file if any). */
    tempUrlKey: z
      .string()
      .min(1)
      .optional()
      .describe('Swift TempURL key signing the links. Default: random per start (kept in the state file if any).'),
    /**
     * S3 key of a PRIVATE output. Placeholders: `{prefix}` (path part of `output_s3_path`, no
     * surrounding slashes), `{identifier}`, `{itemId}`, `{orderId}`, `{date}` (YYYYMMDD of
     * completion). A leading `/` left by an empty prefix is dropped. Default `{prefix}/{identifier}.zip`.
     */
    privateKeyTemplate: z
      .string()
      .min(1)
      .default('{prefix}/{identifier}.zip')
      .describe(
        'S3 key of a PRIVATE output. Placeholders: `{prefix}` (path part of `output_s3_path`, no surrounding slashes), `{identifier}`, `{itemId}`, `{orderId}`, `{date}` (YYYYMMDD of completion). A leading `/` left by an empty prefix is dropped. Default `{prefix}/{identifier}.zip`.',
      ),
    /** A PRIVATE output is written this long after its item is reported completed (listing lag). Default 0. */
    privateOutputLagMs: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('A PRIVATE output is written this long after its item is reported completed (listing lag). Default 0.'),
    /** Region the S3 client signs PRIVATE writes for. Default `us-east-1`. */
    s3Region: z
      .string()
      .default('us-east-1')
      .describe('Region the S3 client signs PRIVATE writes for. Default `us-east-1`.'),
    /**
     * Rewrites `output_s3_endpoint_url` values before writing, e.g. map
     * `https://s3.central.data.destination-earth.eu` to a local S3 so tutorial-style orders work. Default {}.
     */
    s3EndpointMap: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        'Rewrites `output_s3_endpoint_url` values before writing, e.g. map `https://s3.central.data.destination-earth.eu` to a local S3 so tutorial-style orders work. Default {}.',
      ),
    /** Products larger than this are written with a multipart upload, in bytes. Default 64 MiB. */
    multipartThresholdBytes: z
      .number()
      .int()
      .min(5 * 1024 * 1024)
      .default(64 * 1024 * 1024)
      .describe('Products larger than this are written with a multipart upload, in bytes. Default 64 MiB.'),
    /** Part size of multipart PRIVATE writes, in bytes (≥ 5 MiB). Default 16 MiB. */
    multipartPartBytes: z
      .number()
      .int()
      .min(5 * 1024 * 1024)
      .default(16 * 1024 * 1024)
      .describe('Part size of multipart PRIVATE writes, in bytes (≥ 5 MiB). Default 16 MiB.'),
    /** Largest `IdentifierList` accepted in one order. Default 10000. */
    maxItemsPerOrder: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe('Largest `IdentifierList` accepted in one order. Default 10000.'),
    /**
     * Answer 404 on the OData routes documented only for CDSE, not observed on DEDL: listing
     * `BatchOrder` and `BatchOrder(id)/OData.CSC.Cancel`. Clients must then use the observed
     * `ProductionOrders?$filter=…` and `ProductionOrder(id)/OData.CSC.Cancel`. Default false.
     */
    dedlObservedRoutesOnly: z
      .boolean()
      .default(false)
      .describe(
        'Answer 404 on the OData routes documented only for CDSE, not observed on DEDL: listing `BatchOrder`, `BatchOrder(id)` and `BatchOrder(id)/OData.CSC.Cancel`. Clients must then use the observed `ProductionOrders?$filter=…` and `ProductionOrder(id)/OData.CSC.Cancel`. Default false.',
      ),
    /** Failed and cancelled items carry a `StatusMessage`. False mirrors DEDL, whose items were seen without one (the order has it). Default true. */
    itemStatusMessages: z
      .boolean()
      .default(true)
      .describe(
        'Failed and cancelled items carry a `StatusMessage`. False mirrors DEDL, whose items were seen without one (the order has it). Default true.',
      ),
    /** On cancel, items still queued leave the order's item list, as CDSE documents (docs/hook-api.md §4, E11). Default false: they stay, `cancelled`. */
    cancelRemovesQueuedItems: z
      .boolean()
      .default(false)
      .describe(
        "On cancel, items still queued leave the order's item list, as CDSE documents (docs/hook-api.md §4, E11). Default false: they stay, `cancelled`.",
      ),
    /** Rows per page of an OData list when the client gives no `$top` (the rest behind `@odata.nextLink`). Default: all in one page. */
    defaultPageSize: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'Rows per page of an OData list when the client gives no `$top` (the rest behind `@odata.nextLink`). Default: all in one page.',
      ),
    /**
     * Which recorded answers of the real Hook the emulator speaks: `2024-09` (the Tutorial's
     * recordings of 2024-09-02: allowed option values as `{value, condition}` objects, completed
     * items with `StatusMessage` and `CompletedDate`) or `2024-05` (the spring-2024 recordings:
     * allowed values as strings, `brand`/`platform creodias` echoed, items without `StatusMessage`).
     * Default `2024-09`.
     */
    hookDialect: z
      .enum(HOOK_DIALECTS)
      .default('2024-09')
      .describe(
        'Which recorded answers of the real Hook the emulator speaks: `2024-09` (allowed option values as `{value, condition}` objects, completed items with `StatusMessage` and `CompletedDate`) or `2024-05` (allowed values as strings, `brand`/`platform creodias` echoed, items without `StatusMessage`). Default `2024-09`.',
      ),
    /** Id of the first order created. Default 10000. */
    firstOrderId: z.number().int().min(1).default(10_000).describe('Id of the first order created. Default 10000.'),
    /** Id of the first order item created (a separate counter, as on the real service). Default 500000. */
    firstItemId: z
      .number()
      .int()
      .min(1)
      .default(500_000)
      .describe('Id of the first order item created (a separate counter, as on the real service). Default 500000.'),
    /** Fault settings at start; see `faultsSchema`. Default: no faults. */
    faults: faultsSchema
      .default(faultsSchema.parse({}))
      .describe('Fault settings at start; see `faultsSchema`. Default: no faults.'),
    /** Seed of the fault dice (deterministic PRNG). Default 1. */
    seed: z.number().int().default(1).describe('Seed of the fault dice (deterministic PRNG). Default 1.'),
    /** JSON file keeping orders, items, counters, keys and links across restarts. Default none. */
    stateFile: z
      .string()
      .min(1)
      .optional()
      .describe('JSON file keeping orders, items, counters, keys and links across restarts. Default none.'),
    /** Time source (tests inject a manual clock). Default: the system clock. */
    clock: clockSchema.optional().describe('Time source (tests inject a manual clock). Default: the system clock.'),
  })
  .strict();

export type EmulatorOptions = z.infer<typeof emulatorOptionsSchema>;
export type EmulatorOptionsInput = z.input<typeof emulatorOptionsSchema>;
