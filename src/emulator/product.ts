/**
 * Deterministic product zips for the emulator's TEMPORARY (and PRIVATE) outputs.
 *
 * A product is a valid stored (method 0) zip with a SAFE-like layout whose bytes depend only on the
 * identifier and the requested total size. Nothing is ever held in memory whole: the big data entry
 * is made of 64 KiB blocks, each a copy of one of 16 seeded patterns followed by a 16-byte stamp
 * derived from (seed, block index). That makes any byte range producible without the bytes before
 * it, and it lets the entry's CRC-32 be computed from per-block CRCs (CRC-combine arithmetic)
 * without generating the data, so a download can start at any offset at once.
 *
 * Layout, in file order: local header + data for the manifest, the metadata XML and the big entry,
 * then the central directory, then (at 4 GiB - 1 bytes and above) the ZIP64 end record and locator,
 * then the end-of-central-directory record.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

/** A product to generate: the identifier seeds its content; `size` is the exact byte length of the zip. */
export interface ProductSpec {
  identifier: string;
  size: number;
}

/** The smallest `size` honoured for any identifier (the fixed zip overhead always fits below it). */
export const MIN_PRODUCT_SIZE = 4096;

/** Throws a RangeError unless `spec` can be generated. */
export function assertProductSpec(spec: ProductSpec): void {
  if (typeof spec.identifier !== 'string' || spec.identifier.length === 0) {
    throw new RangeError('product identifier must be a non-empty string');
  }
  if (!Number.isSafeInteger(spec.size) || spec.size < MIN_PRODUCT_SIZE) {
    throw new RangeError(`product size must be an integer >= ${MIN_PRODUCT_SIZE}, got ${spec.size}`);
  }
}

/**
 * A readable stream of the product's bytes, or of the inclusive byte `range` of them. The stream
 * generates lazily in 256 KiB chunks as it is read, so memory stays flat whatever the size.
 */
export function createProductStream(spec: ProductSpec, range?: { start: number; end: number }): Readable {
  assertProductSpec(spec);
  const start = range?.start ?? 0;
  const end = range ? range.end + 1 : spec.size;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start >= end || end > spec.size) {
    throw new RangeError(`invalid byte range ${start}-${end - 1} for a product of ${spec.size} bytes`);
  }
  return new ProductStream(zipLayout(spec), seededContent(spec.identifier), start, end);
}

/** The product's sha256 (hex) and size, computed once per (identifier, size) by a pass over the stream. */
export function productDigest(spec: ProductSpec): Promise<{ sha256: string; size: number }> {
  assertProductSpec(spec);
  const key = `${spec.size}:${spec.identifier}`;
  const cached = digests.get(key);
  if (cached) return cached;
  const computed = (async () => {
    const hash = createHash('sha256');
    for await (const chunk of createProductStream(spec)) hash.update(chunk as Buffer);
    return { sha256: hash.digest('hex'), size: spec.size };
  })();
  digests.set(key, computed);
  // A failed pass must not poison the cache.
  computed.catch(() => digests.delete(key));
  return computed;
}

/** What is inside a product zip, in file order; exposed for tests and diagnostics. */
export function productEntries(spec: ProductSpec): { name: string; offset: number; size: number; crc32: number }[] {
  assertProductSpec(spec);
  return zipLayout(spec).entries.map((e) => ({ ...e }));
}

// Bound once: inside a vm context (jest) every global lookup in the per-block loops is ~20x slower.
const { imul, floor, min, max } = Math;

const BLOCK_BYTES = 64 * 1024;
const STAMP_BYTES = 16;
const PATTERN_COUNT = 16; // a power of two: patterns are picked with a mask
const CHUNK_BYTES = 256 * 1024;
const MAX_DIR_NAME = 120;
const ZIP32_LIMIT = 0xffffffff;

// ---------------------------------------------------------------------------------------------
// Memo caches, bounded

/** A Map that forgets its least recently used entry beyond `limit` entries. */
class BoundedCache<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly limit: number) {}

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.limit) this.#map.delete(this.#map.keys().next().value as K);
  }

  delete(key: K): void {
    this.#map.delete(key);
  }
}

const digests = new BoundedCache<string, Promise<{ sha256: string; size: number }>>(512);

// ---------------------------------------------------------------------------------------------
// Seeded content of the big entry

/** Per-identifier patterns and stamp seeds; 1 MiB each, so the cache is small. */
interface SeededContent {
  patterns: Buffer; // PATTERN_COUNT blocks of BLOCK_BYTES - STAMP_BYTES
  seed: Uint32Array; // 8 words from sha256(identifier)
}

const PATTERN_BYTES = BLOCK_BYTES - STAMP_BYTES;
const contents = new BoundedCache<string, SeededContent>(8);

function seededContent(identifier: string): SeededContent {
  const cached = contents.get(identifier);
  if (cached) return cached;
  const digest = createHash('sha256').update(identifier).digest();
  const seed = new Uint32Array(8);
  for (let i = 0; i < 8; i++) seed[i] = digest.readUInt32LE(i * 4);
  const patterns = Buffer.allocUnsafe(PATTERN_COUNT * PATTERN_BYTES);
  const words = new Uint32Array(patterns.buffer, patterns.byteOffset, patterns.length / 4);
  // xorshift128: fast, good enough to look like compressed imagery, and never all-zero state.
  let x = seed[0]! | 1;
  let y = seed[1]!;
  let z = seed[2]!;
  let w = seed[3]!;
  for (let i = 0; i < words.length; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    words[i] = w;
  }
  const content = { patterns, seed };
  contents.set(identifier, content);
  return content;
}

function mix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function patternIndex(seed: Uint32Array, block: number): number {
  return mix32(block ^ seed[4]! ^ imul(floor(block / 0x100000000), 0x9e3779b1)) & (PATTERN_COUNT - 1);
}

/** The 4 words (16 bytes) that end block `block`: they make every block, and so every offset, distinct. */
function stampWords(seed: Uint32Array, block: number, out: Uint32Array): void {
  const lo = block >>> 0;
  const hi = floor(block / 0x100000000) >>> 0;
  out[0] = (lo ^ seed[5]!) >>> 0;
  out[1] = (hi ^ seed[6]!) >>> 0;
  out[2] = mix32(lo ^ seed[7]!);
  out[3] = mix32(lo + seed[0]!);
}

function writeStamp(seed: Uint32Array, block: number, target: Buffer): void {
  const words = new Uint32Array(4);
  stampWords(seed, block, words);
  for (let j = 0; j < 4; j++) target.writeUInt32LE(words[j]!, j * 4);
}

/** Copies `length` bytes of the big entry starting at entry offset `from` into `out` at `at`. */
function fillData(content: SeededContent, from: number, length: number, out: Buffer, at: number): void {
  const stamp = Buffer.allocUnsafe(STAMP_BYTES);
  let block = floor(from / BLOCK_BYTES);
  let within = from - block * BLOCK_BYTES;
  while (length > 0) {
    const take = min(length, BLOCK_BYTES - within);
    const patternStart = patternIndex(content.seed, block) * PATTERN_BYTES;
    if (within < PATTERN_BYTES) {
      const fromPattern = min(take, PATTERN_BYTES - within);
      content.patterns.copy(out, at, patternStart + within, patternStart + within + fromPattern);
    }
    if (within + take > PATTERN_BYTES) {
      writeStamp(content.seed, block, stamp);
      const stampFrom = max(0, within - PATTERN_BYTES);
      stamp.copy(out, at + max(0, PATTERN_BYTES - within), stampFrom, within + take - PATTERN_BYTES);
    }
    at += take;
    length -= take;
    block += 1;
    within = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// CRC-32 arithmetic over GF(2), reflected polynomial representation (bit 31 is x^0), as used to
// combine CRCs: crc(A || B) = x^(8·|B|) · crc(A) + crc(B) mod P.

const CRC_POLY = 0xedb88320;

/** a(x)·b(x) mod P(x). */
function multModP(a: number, b: number): number {
  let product = 0;
  for (let m = 0x80000000; m !== 0 && a !== 0; m >>>= 1) {
    if (a & m) {
      product ^= b;
      a &= ~m;
    }
    b = b & 1 ? (b >>> 1) ^ CRC_POLY : b >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) mod P for k = 0..31, the squares that x^n is built from. */
const X_POW_2K: number[] = (() => {
  const table = [0x40000000]; // x^1
  for (let k = 1; k < 32; k++) table.push(multModP(table[k - 1]!, table[k - 1]!));
  return table;
})();

/** x^(8·bytes) mod P: multiplying a CRC by it shifts it past `bytes` bytes (used for bytes <= BLOCK_BYTES). */
function crc32Shift(bytes: number): number {
  let result = 0x80000000; // x^0
  let n = bytes;
  for (let k = 3; n > 0; k++, n = floor(n / 2)) {
    if (n % 2 === 1) result = multModP(X_POW_2K[k % 32]!, result);
  }
  return result;
}

/** The byte-at-a-time CRC-32 table, for the 16 stamp bytes of each block. */
const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC_POLY : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** crc ↦ x^(8·BLOCK_BYTES)·crc mod P as four byte tables: the map is linear, so bytes add up by XOR. */
const BLOCK_SHIFT_TABLES: Uint32Array[] = (() => {
  const shift = crc32Shift(BLOCK_BYTES);
  return [0, 8, 16, 24].map((bits) => Uint32Array.from({ length: 256 }, (_, x) => multModP(shift, (x << bits) >>> 0)));
})();

function shiftByBlock(crc: number): number {
  const [t0, t1, t2, t3] = BLOCK_SHIFT_TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  return (t0[crc & 0xff]! ^ t1[(crc >>> 8) & 0xff]! ^ t2[(crc >>> 16) & 0xff]! ^ t3[crc >>> 24]!) >>> 0;
}

/**
 * CRC-32 of the first `length` bytes of the big entry, from per-block CRCs: no data is generated
 * for full blocks, so this costs about 40 ns per 64 KiB (under a second for 1 TiB).
 */
function dataCrc(content: SeededContent, length: number): number {
  const patternCrcs = Array.from({ length: PATTERN_COUNT }, (_, k) =>
    crc32(content.patterns.subarray(k * PATTERN_BYTES, (k + 1) * PATTERN_BYTES)),
  );
  const words = new Uint32Array(4);
  const fullBlocks = floor(length / BLOCK_BYTES);
  let crc = 0;
  for (let block = 0; block < fullBlocks; block++) {
    stampWords(content.seed, block, words);
    let c = ~patternCrcs[patternIndex(content.seed, block)]!;
    for (let j = 0; j < 4; j++) {
      const w = words[j]!;
      c = CRC_TABLE[(c ^ w) & 0xff]! ^ (c >>> 8);
      c = CRC_TABLE[(c ^ (w >>> 8)) & 0xff]! ^ (c >>> 8);
      c = CRC_TABLE[(c ^ (w >>> 16)) & 0xff]! ^ (c >>> 8);
      c = CRC_TABLE[(c ^ (w >>> 24)) & 0xff]! ^ (c >>> 8);
    }
    crc = (shiftByBlock(crc) ^ ~c) >>> 0;
  }
  const tail = length - fullBlocks * BLOCK_BYTES;
  if (tail > 0) {
    const bytes = Buffer.allocUnsafe(tail);
    fillData(content, fullBlocks * BLOCK_BYTES, tail, bytes, 0);
    crc = (multModP(crc32Shift(tail), crc) ^ crc32(bytes)) >>> 0;
  }
  return crc;
}

// ---------------------------------------------------------------------------------------------
// Zip layout

interface Segment {
  start: number;
  end: number; // exclusive
  bytes?: Buffer; // fixed bytes; absent for the big entry's data
}

interface ZipLayout {
  entries: { name: string; offset: number; size: number; crc32: number }[];
  segments: Segment[];
}

const layouts = new BoundedCache<string, ZipLayout>(256);

function zipLayout(spec: ProductSpec): ZipLayout {
  const key = `${spec.size}:${spec.identifier}`;
  const cached = layouts.get(key);
  if (cached) return cached;
  const layout = buildLayout(spec);
  layouts.set(key, layout);
  return layout;
}

interface PlannedEntry {
  name: Buffer;
  data?: Buffer; // small entries
  size: number;
  crc: number;
  zip64: boolean;
  offset: number;
}

function buildLayout(spec: ProductSpec): ZipLayout {
  const files = safeLayout(spec.identifier);
  const dos = dosDateTime(spec.identifier);
  // From 4 GiB - 1 up, the big entry and the end records use ZIP64 fields, so none of the 32-bit
  // fields can overflow; below that none can, and the zip stays readable by ZIP64-unaware tools.
  const zip64 = spec.size >= ZIP32_LIMIT;
  const small = files.small.map((f) => ({ name: Buffer.from(f.name), data: Buffer.from(f.text) }));
  const bigName = Buffer.from(files.bigName);
  const fixed =
    small.reduce((n, f) => n + 30 + f.name.length + f.data.length + 46 + f.name.length, 0) +
    (30 + bigName.length + (zip64 ? 20 : 0)) +
    (46 + bigName.length + (zip64 ? 20 : 0)) +
    (zip64 ? 56 + 20 : 0) +
    22;
  const bigSize = spec.size - fixed;
  if (bigSize < 0) throw new RangeError(`product size ${spec.size} is below this identifier's zip overhead`);

  const planned: PlannedEntry[] = [];
  let offset = 0;
  for (const f of small) {
    planned.push({ name: f.name, data: f.data, size: f.data.length, crc: crc32(f.data), zip64: false, offset });
    offset += 30 + f.name.length + f.data.length;
  }
  const big: PlannedEntry = {
    name: bigName,
    size: bigSize,
    crc: dataCrc(seededContent(spec.identifier), bigSize),
    zip64,
    offset,
  };
  planned.push(big);

  const segments: Segment[] = [];
  let at = 0;
  const add = (bytes: Buffer | undefined, length: number): void => {
    segments.push({ start: at, end: at + length, ...(bytes ? { bytes } : {}) });
    at += length;
  };
  for (const e of planned) {
    add(localHeader(e, dos), 30 + e.name.length + (e.zip64 ? 20 : 0));
    if (e.data) add(e.data, e.data.length);
  }
  // The big entry comes last, so its data (the only generated segment) follows its local header.
  add(undefined, bigSize);
  const cdStart = at;
  const central = Buffer.concat(planned.map((e) => centralHeader(e, dos)));
  add(central, central.length);
  if (zip64) {
    const end64At = at;
    add(zip64EndRecord(planned.length, central.length, cdStart), 56);
    add(zip64Locator(end64At), 20);
  }
  add(endRecord(planned.length, central.length, cdStart, zip64), 22);
  if (at !== spec.size) throw new Error(`zip layout is ${at} bytes, expected ${spec.size}`);

  return {
    entries: planned.map((e) => ({ name: e.name.toString(), offset: e.offset, size: e.size, crc32: e.crc })),
    segments,
  };
}

function localHeader(e: PlannedEntry, dos: { date: number; time: number }): Buffer {
  const b = Buffer.alloc(30 + e.name.length + (e.zip64 ? 20 : 0));
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(e.zip64 ? 45 : 10, 4); // version needed: 4.5 for ZIP64, 1.0 for stored
  b.writeUInt16LE(0, 6); // flags: sizes and CRC are in this header, no data descriptor
  b.writeUInt16LE(0, 8); // method: stored
  b.writeUInt16LE(dos.time, 10);
  b.writeUInt16LE(dos.date, 12);
  b.writeUInt32LE(e.crc, 14);
  b.writeUInt32LE(e.zip64 ? ZIP32_LIMIT : e.size, 18);
  b.writeUInt32LE(e.zip64 ? ZIP32_LIMIT : e.size, 22);
  b.writeUInt16LE(e.name.length, 26);
  b.writeUInt16LE(e.zip64 ? 20 : 0, 28);
  e.name.copy(b, 30);
  if (e.zip64) {
    const x = 30 + e.name.length;
    b.writeUInt16LE(0x0001, x);
    b.writeUInt16LE(16, x + 2);
    b.writeBigUInt64LE(BigInt(e.size), x + 4); // uncompressed
    b.writeBigUInt64LE(BigInt(e.size), x + 12); // compressed
  }
  return b;
}

function centralHeader(e: PlannedEntry, dos: { date: number; time: number }): Buffer {
  const b = Buffer.alloc(46 + e.name.length + (e.zip64 ? 20 : 0));
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(0x0300 | (e.zip64 ? 45 : 20), 4); // made by: Unix
  b.writeUInt16LE(e.zip64 ? 45 : 10, 6);
  b.writeUInt16LE(0, 8);
  b.writeUInt16LE(0, 10);
  b.writeUInt16LE(dos.time, 12);
  b.writeUInt16LE(dos.date, 14);
  b.writeUInt32LE(e.crc, 16);
  b.writeUInt32LE(e.zip64 ? ZIP32_LIMIT : e.size, 20);
  b.writeUInt32LE(e.zip64 ? ZIP32_LIMIT : e.size, 24);
  b.writeUInt16LE(e.name.length, 28);
  b.writeUInt16LE(e.zip64 ? 20 : 0, 30);
  // comment length, disk number start, internal attributes: 0
  b.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attributes: regular file, rw-r--r--
  b.writeUInt32LE(e.offset, 42); // entries before the big one always start below 4 GiB
  e.name.copy(b, 46);
  if (e.zip64) {
    const x = 46 + e.name.length;
    b.writeUInt16LE(0x0001, x);
    b.writeUInt16LE(16, x + 2);
    b.writeBigUInt64LE(BigInt(e.size), x + 4);
    b.writeBigUInt64LE(BigInt(e.size), x + 12);
  }
  return b;
}

function zip64EndRecord(count: number, cdSize: number, cdStart: number): Buffer {
  const b = Buffer.alloc(56);
  b.writeUInt32LE(0x06064b50, 0);
  b.writeBigUInt64LE(44n, 4); // size of the rest of this record
  b.writeUInt16LE(0x032d, 12);
  b.writeUInt16LE(45, 14);
  // this disk, disk with the central directory: 0
  b.writeBigUInt64LE(BigInt(count), 24);
  b.writeBigUInt64LE(BigInt(count), 32);
  b.writeBigUInt64LE(BigInt(cdSize), 40);
  b.writeBigUInt64LE(BigInt(cdStart), 48);
  return b;
}

function zip64Locator(end64At: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(0x07064b50, 0);
  b.writeBigUInt64LE(BigInt(end64At), 8);
  b.writeUInt32LE(1, 16); // total number of disks
  return b;
}

function endRecord(count: number, cdSize: number, cdStart: number, zip64: boolean): Buffer {
  const b = Buffer.alloc(22);
  b.writeUInt32LE(0x06054b50, 0);
  b.writeUInt16LE(count, 8);
  b.writeUInt16LE(count, 10);
  b.writeUInt32LE(cdSize, 12);
  b.writeUInt32LE(zip64 ? ZIP32_LIMIT : cdStart, 16);
  return b;
}

// ---------------------------------------------------------------------------------------------
// SAFE-like names and small files

interface SafeFiles {
  small: { name: string; text: string }[];
  bigName: string;
}

/** Entry names and small files, shaped after the mission's real product layout. */
function safeLayout(identifier: string): SafeFiles {
  const dir = directoryName(identifier);
  const stem = dir.replace(/\.(SAFE|SEN3)$/, '');
  const label = xmlEscape(dir);
  const s2 = /^S2[A-D]_MSI(L1C|L2A)_(\d{8}T\d{6})_N\d{4}_R\d{3}_T([0-9]{2}[A-Z]{3})_/.exec(dir);
  let metaName: string;
  let bigPath: string;
  let manifestName = 'manifest.safe';
  if (s2) {
    const [, level, sensing, tile] = s2;
    const orbit = String(mix32(hash32(identifier)) % 50000).padStart(6, '0');
    metaName = `MTD_MSI${level}.xml`;
    const imgDir = level === 'L2A' ? 'IMG_DATA/R10m' : 'IMG_DATA';
    const band = level === 'L2A' ? 'B02_10m' : 'B02';
    bigPath = `GRANULE/${level}_T${tile}_A${orbit}_${sensing}/${imgDir}/T${tile}_${sensing}_${band}.jp2`;
  } else if (/^S1[A-D]_/.test(dir)) {
    metaName = `annotation/${stem.toLowerCase()}.xml`;
    bigPath = `measurement/${stem.toLowerCase()}-vv.tiff`;
  } else if (/^S3[A-D]_/.test(dir)) {
    manifestName = 'xfdumanifest.xml';
    metaName = 'instrument_data.xml';
    bigPath = 'Oa01_radiance.nc';
  } else {
    metaName = 'MTD_PRODUCT.xml';
    bigPath = `DATA/${stem}.bin`;
  }
  const manifest = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<xfdu:XFDU xmlns:xfdu="urn:ccsds:schema:xfdu:1" version="esa/safe/emulated">',
    '  <informationPackageMap>',
    `    <xfdu:contentUnit unitType="SAFE Archive Information Package" textInfo="${label}"/>`,
    '  </informationPackageMap>',
    '  <dataObjectSection>',
    `    <dataObject ID="metadata"><byteStream mimeType="text/xml"><fileLocation href="./${metaName}"/></byteStream></dataObject>`,
    `    <dataObject ID="data"><byteStream mimeType="application/octet-stream"><fileLocation href="./${bigPath}"/></byteStream></dataObject>`,
    '  </dataObjectSection>',
    '</xfdu:XFDU>',
    '',
  ].join('\n');
  const metadata = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Product_Metadata>',
    `  <PRODUCT_URI>${label}</PRODUCT_URI>`,
    '  <NOTE>Synthetic product generated by the dedl-harvester Hook emulator.</NOTE>',
    '</Product_Metadata>',
    '',
  ].join('\n');
  return {
    small: [
      { name: `${dir}/${manifestName}`, text: manifest },
      { name: `${dir}/${metaName}`, text: metadata },
    ],
    bigName: `${dir}/${bigPath}`,
  };
}

/** A safe, bounded top-level folder name: identifiers come from orders and may contain anything. */
function directoryName(identifier: string): string {
  const cleaned = identifier.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned.slice(0, MAX_DIR_NAME) || 'product';
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function hash32(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32LE(0);
}

/** MS-DOS date/time of the sensing time in the identifier, or 2024-01-01 00:00 when it has none. */
function dosDateTime(identifier: string): { date: number; time: number } {
  const m = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})/.exec(identifier);
  const [y, mo, d, h, mi, s] = m ? m.slice(1).map(Number) : [2024, 1, 1, 0, 0, 0];
  const valid =
    y! >= 1980 && y! <= 2107 && mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= 31 && h! < 24 && mi! < 60 && s! < 60;
  if (!valid) return { date: ((2024 - 1980) << 9) | (1 << 5) | 1, time: 0 };
  return { date: ((y! - 1980) << 9) | (mo! << 5) | d!, time: (h! << 11) | (mi! << 5) | (s! >> 1) };
}

// ---------------------------------------------------------------------------------------------
// The stream

class ProductStream extends Readable {
  readonly #layout: ZipLayout;
  readonly #content: SeededContent;
  readonly #end: number;
  #pos: number;

  constructor(layout: ZipLayout, content: SeededContent, start: number, end: number) {
    super({ highWaterMark: CHUNK_BYTES });
    this.#layout = layout;
    this.#content = content;
    this.#pos = start;
    this.#end = end;
  }

  override _read(): void {
    const length = min(CHUNK_BYTES, this.#end - this.#pos);
    if (length <= 0) {
      this.push(null);
      return;
    }
    // A fresh buffer per chunk: the consumer may still hold earlier ones (socket queues, hashes).
    const chunk = Buffer.allocUnsafe(length);
    this.#fill(chunk, this.#pos);
    this.#pos += length;
    this.push(chunk);
  }

  #fill(out: Buffer, from: number): void {
    let at = 0;
    for (const seg of this.#layout.segments) {
      if (at >= out.length) break;
      const pos = from + at;
      if (seg.end <= pos) continue;
      const take = min(seg.end - pos, out.length - at);
      if (seg.bytes) seg.bytes.copy(out, at, pos - seg.start, pos - seg.start + take);
      else fillData(this.#content, pos - seg.start, take, out, at);
      at += take;
    }
  }
}
