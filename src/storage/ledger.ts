/**
 * The ledger: a durable record of verified products, so a campaign skips what any earlier run,
 * on any machine, already delivered and proved. A product is keyed by (identifier, Hook workflow,
 * options hash); each record says where a verified copy is, its size and sha256, when it was
 * verified and by which order.
 *
 * Storage layout (the same for the file and the S3 store): one immutable object per record,
 *   `<root>/<sha256 of the product key>/<verifiedAt ms, 15 digits>_<location digest>_<content digest>.json`
 * Records are never overwritten or edited, so concurrent writers never contend for an object and
 * no update can be lost, whatever the storage's consistency guarantees (see ledger-s3.ts for why
 * this matters on versitygw). The name is derived from the content, so recording the same record
 * twice (a retried activity) stores it once. Readers take the newest record per location.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isSecretName } from '../shared/secret-patterns';

/** What identifies a product in the ledger. */
export interface ProductKey {
  /** STAC item id, e.g. `S2A_MSIL1C_…SAFE`. */
  identifier: string;
  /** Hook workflow name, e.g. `data-harvest`. */
  workflow: string;
  /** {@link optionsHash} of the non-secret workflow options the product was made with. */
  optionsHash: string;
}

/** One verified copy of a product. */
export interface LedgerRecord extends ProductKey {
  /** Where the verified copy is: `s3://bucket/key` or an absolute file path. Never a signed URL. */
  location: string;
  size: number;
  /** Lowercase hex. */
  sha256: string;
  /** ISO-8601 time of verification. */
  verifiedAt: string;
  /** Hook order that produced it, when known. */
  orderId: string | null;
}

/** A product set aside: it failed verification (the same corrupt bytes would come again). */
export interface QuarantineNote extends ProductKey {
  reason: string;
  /** ISO-8601 time it was set aside. */
  at: string;
  orderId: string | null;
}

export interface Ledger {
  /** Stores a record; idempotent (the same record twice is stored once). */
  record(record: LedgerRecord): Promise<void>;
  /** Sets a product aside; a verified record newer than the note lifts it. Idempotent. */
  quarantine(note: QuarantineNote): Promise<void>;
  /** The products set aside (newest note, when newer than every verified copy), by {@link productKeyId}. */
  quarantinedMany(keys: readonly ProductKey[]): Promise<Map<string, QuarantineNote>>;
  /** Verified copies of one product, newest first, one per location; empty when never verified. */
  lookup(key: ProductKey): Promise<LedgerRecord[]>;
  /** {@link lookup} for many products; the map holds every key's {@link productKeyId}, with `[]` for unknown ones. */
  lookupMany(keys: readonly ProductKey[]): Promise<Map<string, LedgerRecord[]>>;
}

export const productKeySchema = z.object({
  identifier: z.string().min(1).max(1024),
  workflow: z.string().min(1).max(256),
  optionsHash: z.string().regex(/^[0-9a-f]{16,64}$/, 'optionsHash must be 16 to 64 lowercase hex digits'),
});

export const ledgerRecordSchema = productKeySchema.extend({
  location: z
    .string()
    .min(1)
    .max(2048)
    .refine(
      (location) => !location.includes('?'),
      'location must not carry a query string (signed URLs are credentials)',
    ),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits'),
  verifiedAt: z.iso.datetime({ offset: true }),
  orderId: z
    .union([z.string(), z.number()])
    .nullable()
    .transform((id) => (id === null ? null : String(id))),
});

/** A stable string for a product key, usable as a map key. */
export function productKeyId(key: ProductKey): string {
  return canonicalJson([key.workflow, key.optionsHash, key.identifier]);
}

/** The folder of a product's records. */
export function productKeyDigest(key: ProductKey): string {
  return createHash('sha256').update(productKeyId(key)).digest('hex');
}

/** Folder and file name of a record (see the module comment for the layout). */
export function recordPath(record: LedgerRecord): { folder: string; fileName: string } {
  const millis = Date.parse(record.verifiedAt);
  const content = createHash('sha256').update(canonicalJson(record)).digest('hex').slice(0, 16);
  return {
    folder: productKeyDigest(record),
    fileName: `${String(millis).padStart(15, '0')}_${locationDigest(record.location)}_${content}.json`,
  };
}

const RECORD_FILE = /^(\d{15})_([0-9a-f]{16})_([0-9a-f]{16})\.json$/;

/** Of a folder's record file names, the newest per location (names sort by time within a location). */
export function newestRecordNames(names: Iterable<string>): string[] {
  const newest = new Map<string, string>();
  for (const name of names) {
    const match = RECORD_FILE.exec(name);
    if (!match) continue; // temp files, strangers
    const location = match[2]!;
    const current = newest.get(location);
    if (!current || name > current) newest.set(location, name);
  }
  return [...newest.values()];
}

/** Parses a stored record; undefined when it is not one for `key` (damaged, or a foreign file). */
export function parseRecord(text: string, key: ProductKey): LedgerRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = ledgerRecordSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const record = parsed.data;
  return productKeyId(record) === productKeyId(key) ? record : undefined;
}

export const quarantineNoteSchema = productKeySchema.extend({
  reason: z.string().min(1).max(2000),
  at: z.iso.datetime({ offset: true }),
  orderId: z.string().nullable(),
});

/**
 * Quarantine notes live in the product's folder beside its records, as
 * `q_<at ms, 15 digits>_<content digest>.json`: record readers ignore the name (it does not match
 * theirs), and the newest note sorts last.
 */
export function quarantinePath(note: QuarantineNote): { folder: string; fileName: string } {
  const content = createHash('sha256').update(canonicalJson(note)).digest('hex').slice(0, 16);
  return {
    folder: productKeyDigest(note),
    fileName: `q_${String(Date.parse(note.at)).padStart(15, '0')}_${content}.json`,
  };
}

const QUARANTINE_FILE = /^q_(\d{15})_([0-9a-f]{16})\.json$/;

/** The newest quarantine note's name of a folder, if it is newer than every record in it. */
export function liveQuarantineName(names: readonly string[]): string | undefined {
  const notes = names.filter((name) => QUARANTINE_FILE.test(name)).sort();
  const newest = notes[notes.length - 1];
  if (!newest) return undefined;
  const noteMs = Number(QUARANTINE_FILE.exec(newest)![1]);
  const verifiedMs = Math.max(0, ...newestRecordNames(names).map((name) => Number(RECORD_FILE.exec(name)![1])));
  return verifiedMs > noteMs ? undefined : newest;
}

export function parseQuarantine(text: string, key: ProductKey): QuarantineNote | undefined {
  try {
    const parsed = quarantineNoteSchema.safeParse(JSON.parse(text));
    return parsed.success && productKeyId(parsed.data) === productKeyId(key) ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function validateQuarantine(note: QuarantineNote): QuarantineNote {
  const parsed = quarantineNoteSchema.safeParse(note);
  if (!parsed.success) throw new TypeError(`invalid quarantine note: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Validates a record before it is stored (throws a readable error naming the field). */
export function validateRecord(record: LedgerRecord): LedgerRecord {
  const parsed = ledgerRecordSchema.safeParse(record);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'record'}: ${issue.message}`);
    throw new TypeError(`invalid ledger record: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** Product folders read at once by lookupMany. */
const LOOKUP_CONCURRENCY = 16;

/** Runs `lookup` for every distinct key with bounded concurrency. */
export async function lookupAll(
  keys: readonly ProductKey[],
  lookup: (key: ProductKey) => Promise<LedgerRecord[]>,
  concurrency = LOOKUP_CONCURRENCY,
): Promise<Map<string, LedgerRecord[]>> {
  const distinct = new Map(keys.map((key) => [productKeyId(key), key]));
  const pending = [...distinct.entries()];
  const results = new Map<string, LedgerRecord[]>();
  const worker = async (): Promise<void> => {
    for (let next = pending.shift(); next; next = pending.shift()) results.set(next[0], await lookup(next[1]));
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));
  return new Map([...distinct.keys()].map((id) => [id, results.get(id) ?? []]));
}

/**
 * Both stores keep the same layout (a folder per product, an immutable file per record or note),
 * so the ledger itself is written once, over the three things a store must do: list a product
 * folder's file names, read one file, and write one immutable file (a second write of the same
 * name is a no-op).
 */
export abstract class FolderLedger implements Ledger {
  /** The file names of a product folder; [] when it does not exist. */
  protected abstract names(folder: string): Promise<string[]>;
  protected abstract read(folder: string, name: string): Promise<string>;
  protected abstract put(folder: string, name: string, content: unknown): Promise<void>;

  async record(input: LedgerRecord): Promise<void> {
    const record = validateRecord(input);
    const { folder, fileName } = recordPath(record);
    await this.put(folder, fileName, record);
  }

  async quarantine(input: QuarantineNote): Promise<void> {
    const note = validateQuarantine(input);
    const { folder, fileName } = quarantinePath(note);
    await this.put(folder, fileName, note);
  }

  async quarantinedMany(keys: readonly ProductKey[]): Promise<Map<string, QuarantineNote>> {
    const found = new Map<string, QuarantineNote>();
    await lookupAll(keys, async (key) => {
      const folder = productKeyDigest(key);
      const name = liveQuarantineName(await this.names(folder));
      const note = name && parseQuarantine(await this.read(folder, name), key);
      if (note) found.set(productKeyId(key), note);
      return [];
    });
    return found;
  }

  async lookup(key: ProductKey): Promise<LedgerRecord[]> {
    const folder = productKeyDigest(key);
    const names = await this.names(folder);
    const records = await Promise.all(
      newestRecordNames(names).map(async (name) => parseRecord(await this.read(folder, name), key)),
    );
    return records.filter((record): record is LedgerRecord => record !== undefined).sort(byNewest);
  }

  async lookupMany(keys: readonly ProductKey[]): Promise<Map<string, LedgerRecord[]>> {
    return lookupAll(keys, (key) => this.lookup(key));
  }
}

/** Newest first. */
export function byNewest(a: LedgerRecord, b: LedgerRecord): number {
  return Date.parse(b.verifiedAt) - Date.parse(a.verifiedAt) || a.location.localeCompare(b.location);
}

function locationDigest(location: string): string {
  return createHash('sha256').update(location).digest('hex').slice(0, 16);
}

// -----------------------------------------------------------------------------------------------
// Options hash

export type WorkflowOptions = Readonly<Record<string, unknown>> | readonly { name: string; value: unknown }[];

/**
 * A stable hash of the options a product was ordered with: the canonical JSON (keys sorted at
 * every level) of the non-secret options, so the same options in any order, from an object or a
 * Hook-style `[{name, value}]` list, give the same hash. Options whose name looks like a
 * credential or an identity (`isSecretName`, shared/secret-patterns.ts, or listed in `secretNames`) are
 * left out: they do not change the product, and a hash of a secret is a way to test guesses of it.
 */
export function optionsHash(options: WorkflowOptions, settings: { secretNames?: readonly string[] } = {}): string {
  const extra = new Set((settings.secretNames ?? []).map((name) => name.toLowerCase()));
  const entries: [string, unknown][] = Array.isArray(options)
    ? (options as readonly { name: string; value: unknown }[]).map(({ name, value }) => [name, value])
    : Object.entries(options);
  const kept: Record<string, unknown> = {};
  for (const [name, value] of entries) {
    if (isSecretName(name) || extra.has(name.toLowerCase()) || value === undefined) continue;
    if (Object.hasOwn(kept, name)) throw new TypeError(`option ${JSON.stringify(name)} is given twice`);
    kept[name] = value;
  }
  return createHash('sha256').update(canonicalJson(kept)).digest('hex').slice(0, 32);
}

/** JSON with object keys sorted at every level; rejects values JSON cannot represent faithfully. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value, '$'));
}

function canonicalize(value: unknown, where: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${where} is ${value}, which JSON cannot represent`);
    return value;
  }
  if (Array.isArray(value))
    return value.map((item, index) => canonicalize(item === undefined ? null : item, `${where}[${index}]`));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(value as object).sort()) {
      const item = (value as Record<string, unknown>)[name];
      if (item !== undefined) out[name] = canonicalize(item, `${where}.${name}`);
    }
    return out;
  }
  throw new TypeError(`${where} is a ${typeof value}, which JSON cannot represent`);
}
