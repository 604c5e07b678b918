/**
 * `HarvestRequest`: the one JSON object that starts a harvest, from our CLI, from code, or from
 * `temporal workflow start --input-file`. It holds no secret: credentials are named, and the
 * worker resolves the names from its own environment. Workflow-safe (zod only).
 */
import { z } from 'zod';
import { parseDuration } from './duration';
import { layoutTemplate } from './layout';

/** The largest order the Hook is sent in one go; campaigns split bigger lists. */
export const MAX_IDENTIFIERS_PER_ORDER = 100;

const duration = (what: string) =>
  z.string().refine((text) => parseDuration(text) !== undefined, `${what} must be a duration like 15s, 10m, 48h or 2d`);

/** A credential set known to the worker, e.g. `islet` → S3_CREDENTIALS_ISLET_* variables. Never a secret itself. */
export const credentialRef = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must name a credential set (lower-case letters, digits, - or _), not contain one');

export const s3Url = z
  .string()
  .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/, 'must be an s3://bucket/prefix URL');

/** The URL percent-decoded, or undefined for a malformed escape (decodeURI would throw, in workflow code too). */
function decoded(url: string): string | undefined {
  try {
    return decodeURI(url);
  } catch {
    return undefined;
  }
}

export const fileUrl = z
  .string()
  .regex(/^file:\/\/\/[^\0]*$/, 'must be an absolute file:///path URL')
  .refine((url) => decoded(url) !== undefined, 'must be a correctly percent-encoded URL')
  .refine((url) => !decoded(url)?.split('/').includes('..'), 'must not contain ".." segments');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** Where TEMPORARY products are written: a local folder or an S3 prefix. */
export const sinkUrl = z.union([fileUrl, s3Url], { error: 'must be a file:///dir or s3://bucket/prefix URL' });

/** Product identifiers as the catalogue writes them: no spaces, quotes or path separators. */
export const identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a catalogue identifier (letters, digits, dot, dash, underscore)');

/** A collection id of the catalogue the source reads from. */
export const collectionId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be a catalogue collection id');

/**
 * What a processing hook names as its input when that is not a catalogue product (the custom hook
 * dedl_hello_world takes `"Custom Hook"`): free text without path separators or control characters.
 */
export const freeIdentifier = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .regex(/^(?!\.\.?$)[^/\\\x00-\x1f"'`]+$/, 'must not contain / \\ quotes or control characters');

const sourceSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('DESP'),
      /** DESP account used by the Hook to read from HDA; defaults to the worker's own DESP login. */
      credentials: credentialRef.default('desp'),
    }),
    z.strictObject({
      type: z.literal('EXTERNAL'),
      catalogueUrl: httpUrl,
      catalogueType: z.enum(['STAC']).default('STAC'),
      tokenUrl: httpUrl,
      grantType: z.enum(['PASSWORD', 'CLIENT_CREDENTIALS']).default('PASSWORD'),
      clientId: z.string().min(1).default('hda-public'),
      credentials: credentialRef,
    }),
    /** A custom hook reading a folder of an S3 store (`source_s3_*` options; keys from a credential set). */
    z.strictObject({
      type: z.literal('S3'),
      path: s3Url,
      endpoint: httpUrl,
      credentials: credentialRef,
    }),
    /** The workflow finds its input itself (copdem, maja: the Creodias catalogue): no source options. */
    z.strictObject({ type: z.literal('NONE') }),
  ],
  {
    error:
      'must be { "type": "DESP" }, { "type": "EXTERNAL", … }, { "type": "S3", "path", "endpoint", "credentials" } or { "type": "NONE" }',
  },
);

const outputSchema = z.discriminatedUnion(
  'storage',
  [
    z.strictObject({
      storage: z.literal('TEMPORARY'),
      sink: sinkUrl,
      /** Credential set for an s3:// sink. */
      sinkCredentials: credentialRef.optional(),
      /** Where in the sink each product lands (shared/layout.ts); default `{identifier}.zip`. */
      layout: layoutTemplate.optional(),
      /** Deliver each verified product as its folder (a folder, or one S3 object per entry), each entry's CRC checked. */
      unpack: z.boolean().optional(),
      /** Keep only the entries matching one of these globs (`*_B04.jp2`, `MTD_*.xml`); implies `unpack`. */
      entries: z
        .array(
          z
            .string()
            .min(1)
            .max(200)
            .regex(/^[^\\\x00-\x1f]+$/, 'must be a glob without backslashes or control characters'),
        )
        .min(1)
        .max(50)
        .optional(),
      /** With `unpack` or `entries`: keep the verified zip beside the folder (default: remove it). */
      keepZip: z.boolean().optional(),
    }),
    z.strictObject({
      storage: z.literal('PRIVATE'),
      target: s3Url,
      endpoint: httpUrl,
      credentials: credentialRef,
      /** Also copy the outputs here, with the same integrity checks. */
      download: sinkUrl.optional(),
      /**
       * How object keys match items, when the default (`{prefix}/{identifier}.zip`, else any key
       * containing the identifier) does not fit: `{prefix}`, `{identifier}`, `{itemId}` are filled
       * in; a template ending in `/` matches a folder of outputs.
       */
      keyTemplate: z.string().min(1).max(512).optional(),
      /**
       * How long an output the Hook reports completed may take to appear in the target's listing
       * (an eventually consistent store) before it counts as missing.
       */
      listingWait: duration('listingWait').default('1m'),
      /** Refused: the Hook places PRIVATE objects itself (README, "Harvests ready for analysis"). */
      layout: z
        .undefined({
          error:
            'applies to TEMPORARY output only: the Hook places PRIVATE objects itself, and copying them into a layout would store each product twice',
        })
        .optional(),
    }),
  ],
  { error: 'must be { "storage": "TEMPORARY", "sink": … } or { "storage": "PRIVATE", "target": … }' },
);

/** Options we set from `source` and `output`; a request may not set them by hand. */
export const MANAGED_OPTIONS = new Set([
  'output_storage',
  'output_s3_access_key',
  'output_s3_secret_key',
  'output_s3_path',
  'output_s3_endpoint_url',
  'source_type',
  'desp_source_username',
  'desp_source_password',
  'desp_source_collection',
  'source_catalogue_api_url',
  'source_catalogue_api_type',
  'source_catalogue_collection',
  'source_token_url',
  'source_grant_type',
  'source_username',
  'source_password',
  'source_client_id',
  'source_client_secret',
  'source_s3_path',
  'source_s3_endpoint_url',
  'source_s3_access_key',
  'source_s3_secret_key',
]);

const extraOption = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be a Hook option name (lower-case, digits, underscore)')
    .refine((name) => !MANAGED_OPTIONS.has(name), 'is set from "source" or "output", not by hand'),
  value: z.union([z.string().max(1024), z.number(), z.boolean()]),
});

export const pollingSchema = z
  .strictObject({
    initialInterval: duration('initialInterval').default('15s'),
    maxInterval: duration('maxInterval').default('10m'),
    backoff: z.number().min(1, 'must be at least 1').max(10, 'must be at most 10').default(1.6),
    deadline: duration('deadline').default('48h'),
  })
  .refine((p) => parseDuration(p.initialInterval)! <= parseDuration(p.maxInterval)!, {
    message: 'initialInterval must not exceed maxInterval',
    path: ['initialInterval'],
  });

export const harvestRequestSchema = z
  .strictObject({
    /** A label; goes into the Hook order's Name. */
    name: z
      .string()
      .min(1, 'must not be empty')
      .max(80, 'must be at most 80 characters')
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'may use letters, digits, space, dot, dash and underscore'),
    workflow: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'must be a Hook workflow name')
      .default('data-harvest'),
    /** The catalogue collection of the identifiers; required when the source reads a catalogue. */
    collection: collectionId.optional(),
    /** Catalogue identifiers; free-form (e.g. `Custom Hook`) for a source that is not a catalogue. */
    identifiers: z
      .array(z.string({ error: 'must be a string' }))
      .min(1, 'must list at least one identifier')
      .max(MAX_IDENTIFIERS_PER_ORDER, `must list at most ${MAX_IDENTIFIERS_PER_ORDER} identifiers (use a campaign)`)
      .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an identifier'),
    source: sourceSchema.default({ type: 'DESP', credentials: 'desp' }),
    output: outputSchema,
    options: z
      .array(extraOption)
      .max(50)
      .default([])
      .refine((opts) => new Set(opts.map((o) => o.name)).size === opts.length, 'must not repeat an option'),
    polling: pollingSchema.default({ initialInterval: '15s', maxInterval: '10m', backoff: 1.6, deadline: '48h' }),
    /** Downloads running at once for this harvest. */
    maxParallelDownloads: z.number().int().min(1).max(16).default(4),
    /**
     * Parallel ranged connections per product download (adaptive: up to this many while the rate
     * grows, fewer after a 429/503); 1 = one stream; default: the worker's `DEDL_CONNECTIONS_PER_PRODUCT`
     * for products of at least `DEDL_RANGED_MIN_BYTES`, else one stream. Into S3,
     * one multipart part per range.
     */
    connectionsPerProduct: z.number().int().min(1).max(16).optional(),
    /**
     * How soon a download (or a PRIVATE verification) whose worker died is noticed and resumed by
     * another worker: its heartbeat timeout (it heartbeats every 10 s, or a third of this when
     * shorter, whether or not bytes flow).
     */
    downloadHeartbeatTimeout: duration('downloadHeartbeatTimeout').default('1m'),
    /**
     * The task queue downloads (deliverProduct, verifyPrivateOutput) are scheduled on, served by
     * download workers (`DEDL_TASK_QUEUE=<it>`, `DEDL_RUN_WORKFLOWS=false`); default: the queue
     * the workflow runs on, so every worker does everything.
     */
    downloadTaskQueue: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/,
        'must be a task queue name: up to 200 letters, digits and . _ : / - (starting with a letter or digit)',
      )
      .optional(),
    /**
     * Set by `dedl-harvest redeliver`: instead of ordering, deliver `identifiers` from this
     * existing order of the harvest `from` (products the Hook made but that were not delivered);
     * their download links are read back from the order's items, never carried in history.
     */
    redeliver: z
      .strictObject({
        from: z.string().min(1).max(1000),
        orderId: z.string().min(1).max(64),
      })
      .optional(),
  })
  .refine((r) => r.output.storage === 'PRIVATE' || !r.output.sink.startsWith('s3://') || r.output.sinkCredentials, {
    message: 'an s3:// sink needs "sinkCredentials"',
    path: ['output', 'sinkCredentials'],
  })
  .superRefine(
    (r, ctx) => {
      // Runs even when other fields failed, so every problem is named at once; `r` may then be
      // partly unparsed. A source that is not S3 or NONE (DESP by default) reads a catalogue, whose
      // identifiers have the catalogue's form; the others' are free-form.
      const sourceType = (r.source as { type?: unknown } | undefined)?.type;
      const catalogue = sourceType !== 'S3' && sourceType !== 'NONE';
      if (catalogue && r.collection === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['collection'],
          message: 'is required: the source reads products of a catalogue collection',
        });
      }
      if (!Array.isArray(r.identifiers)) return;
      r.identifiers.forEach((id, index) => {
        if (typeof id !== 'string') return;
        const checked = (catalogue ? identifier : freeIdentifier).safeParse(id);
        if (!checked.success) {
          ctx.addIssue({ code: 'custom', path: ['identifiers', index], message: checked.error.issues[0]!.message });
        }
      });
    },
    { when: () => true },
  );

/** What callers write (defaults optional). */
export type HarvestRequestInput = z.input<typeof harvestRequestSchema>;
/** What the workflow works with (defaults filled in). */
export type HarvestRequest = z.output<typeof harvestRequestSchema>;

/** One line per problem, each naming the field: `identifiers.2: must be a catalogue identifier …`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(request)'}: ${issue.message}`);
}

export type ParsedRequest = { ok: true; request: HarvestRequest } | { ok: false; problems: string[] };

export function parseHarvestRequest(input: unknown): ParsedRequest {
  const result = harvestRequestSchema.safeParse(input);
  return result.success ? { ok: true, request: result.data } : { ok: false, problems: describeIssues(result.error) };
}
