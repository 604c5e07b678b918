/**
 * A streaming zip verifier: it is fed an archive's bytes in order, as they arrive, and proves the
 * archive is whole without seeking or reading anything back. It walks the local file headers,
 * checks every entry's CRC-32 and sizes (stored data is CRC'd as it passes; deflated data is
 * inflated in a stream and its output CRC'd), reads data descriptors, understands ZIP64, and then
 * checks that the central directory and the end records describe exactly the entries that were
 * seen (names, sizes, CRCs, offsets, counts, total length).
 *
 * Memory stays bounded whatever the archive size: data passes through, only headers are buffered
 * (at most ~200 KiB), and one small summary is kept per entry to cross-check the central
 * directory (capped by `maxEntries`).
 *
 * Not supported (reported as {@link UnsupportedZipError}): encryption, compression methods other
 * than stored (0) and deflate (8), multi-disk archives. Archives with data before the first local
 * header or after the end record (self-extractors, appended data) are rejected as corrupt: a
 * product is exactly one zip.
 */
import { type InflateRaw, createInflateRaw, crc32 } from 'node:zlib';
import { CorruptZipError, UnsupportedZipError } from './errors';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_ZIP64_END = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_END = 0x06054b50;
const SIG_DIGITAL_SIGNATURE = 0x05054b50;
const SIG_ARCHIVE_EXTRA = 0x08064b50;

const DESCRIPTOR_SIG_BYTES = Buffer.from([0x50, 0x4b, 0x07, 0x08]);
const ZIP64_EXTRA_ID = 0x0001;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
/** Longest a zip64 end record may be; real ones are 56 bytes, the extensible data is unused. */
const MAX_ZIP64_END_RECORD = 64 * 1024;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const FLAG_STRONG_ENCRYPTION = 0x0040;

const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;

/** One entry as it was found in the stream (sizes and CRC are the computed ones). */
export interface ZipEntrySummary {
  /** The entry name, decoded as UTF-8 when flagged so, else as Latin-1 (close enough for messages). */
  name: string;
  /** Offset of the entry's local file header. */
  offset: number;
  method: 0 | 8;
  compressedSize: number;
  size: number;
  crc32: number;
  dataDescriptor: boolean;
  zip64: boolean;
}

/** What the verifier proved about a whole archive. */
export interface ZipSummary {
  entries: number;
  /** Sum of the entries' uncompressed sizes. */
  uncompressedSize: number;
  centralDirectoryOffset: number;
  centralDirectorySize: number;
  zip64: boolean;
  /** Total archive length in bytes (the stream length). */
  length: number;
}

export interface ZipVerifierOptions {
  /**
   * Most entries accepted (default 200 000); each costs ~200 bytes until the central directory is
   * checked, so this bounds memory for archives with absurd entry counts.
   */
  maxEntries?: number;
  /** Called once per entry after its data has been checked. */
  onEntry?: (entry: ZipEntrySummary) => void;
}

/** An entry whose header has been read and whose data is being checked. */
interface OpenEntry {
  nameRaw: Buffer;
  name: string;
  offset: number;
  flags: number;
  method: 0 | 8;
  zip64: boolean;
  /** From the local header (meaningless when the data-descriptor flag is set). */
  declared: { crc32: number; compressedSize: number; size: number };
  crc32: number;
  size: number;
  compressedSize: number;
}

/** What is kept per entry to cross-check the central directory. */
interface SeenEntry {
  nameKey: string; // raw name bytes as latin1, for exact comparison
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  inCentralDirectory: boolean;
}

type State =
  | { kind: 'record' }
  | { kind: 'stored'; remaining: number }
  | { kind: 'stored-scan' }
  | { kind: 'deflate'; remaining: number | undefined; inflater: EntryInflater }
  | { kind: 'descriptor' }
  | { kind: 'skip'; remaining: number }
  | { kind: 'done' };

type Phase = 'entries' | 'central' | 'zip64-end' | 'zip64-locator' | 'done';

export class ZipStreamVerifier {
  readonly #maxEntries: number;
  readonly #onEntry: ((entry: ZipEntrySummary) => void) | undefined;
  #state: State = { kind: 'record' };
  #phase: Phase = 'entries';
  /** Bytes not yet parsed (only ever a header's worth). */
  #pending: Buffer = Buffer.alloc(0);
  /** Absolute offset of the next unparsed byte. */
  #offset = 0;
  #entry: OpenEntry | undefined;
  readonly #seen = new Map<number, SeenEntry>();
  #uncompressedSize = 0;
  #centralStart: number | undefined;
  #centralEnd: number | undefined;
  #centralCount = 0;
  #zip64End: { offset: number; entries: number; cdSize: number; cdOffset: number } | undefined;
  #zip64LocatorSeen = false;
  #summary: ZipSummary | undefined;
  #failure: Error | undefined;

  constructor(options: ZipVerifierOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 200_000;
    this.#onEntry = options.onEntry;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#offset + this.#pending.length;
  }

  /** Feeds the next bytes of the archive; rejects as soon as they prove it corrupt. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (chunk.byteLength === 0) return;
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, incoming]) : incoming;
    this.#pending = Buffer.alloc(0);
    try {
      const used = await this.#parse(buf, false);
      // Copy the leftover so a small header fragment does not pin a large chunk in memory.
      if (used < buf.length) this.#pending = Buffer.from(buf.subarray(used));
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Call after the last byte: rejects unless the archive was complete and consistent. */
  async finish(): Promise<ZipSummary> {
    if (this.#failure) throw this.#failure;
    if (this.#summary) return this.#summary;
    try {
      const buf = this.#pending;
      this.#pending = Buffer.alloc(0);
      const used = await this.#parse(buf, true);
      if (this.#state.kind !== 'done') {
        throw new CorruptZipError(`archive ends early (${this.#describeState()})`, this.#offset + (buf.length - used));
      }
      const end = this.#offset;
      this.#summary = {
        entries: this.#seen.size,
        uncompressedSize: this.#uncompressedSize,
        centralDirectoryOffset: this.#centralStart ?? 0,
        centralDirectorySize: (this.#centralEnd ?? 0) - (this.#centralStart ?? 0),
        zip64: this.#zip64End !== undefined,
        length: end,
      };
      return this.#summary;
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Releases the inflater if verification is abandoned half-way. */
  dispose(): void {
    if (this.#state.kind === 'deflate') this.#state.inflater.dispose();
  }

  #fail(err: unknown): never {
    this.dispose();
    this.#failure =
      err instanceof CorruptZipError || err instanceof UnsupportedZipError
        ? err
        : new CorruptZipError(err instanceof Error ? err.message : String(err), this.#offset, { cause: err });
    throw this.#failure;
  }

  #describeState(): string {
    switch (this.#state.kind) {
      case 'record':
        return this.#phase === 'entries' && this.#seen.size === 0 && !this.#entry
          ? 'no end of central directory record'
          : `expected a zip record after ${this.#phase === 'entries' ? 'the entries' : 'the central directory'}, found the end of the stream`;
      case 'stored-scan':
        return `no data descriptor agrees with the data of entry ${JSON.stringify(this.#entry?.name)}`;
      case 'stored':
      case 'deflate':
        return `inside the data of entry ${JSON.stringify(this.#entry?.name)}`;
      case 'descriptor':
        return `inside the data descriptor of entry ${JSON.stringify(this.#entry?.name)}`;
      case 'skip':
        return 'inside a zip record';
      case 'done':
        return 'complete';
    }
  }

  /**
   * Consumes as much of `buf` as possible and returns how many bytes were used; the rest is kept
   * for the next call. `atEnd` says no more bytes will come. A step may make progress without
   * consuming bytes (a state change), so the loop stops only when neither happens.
   */
  async #parse(buf: Buffer, atEnd: boolean): Promise<number> {
    let pos = 0;
    for (;;) {
      const before = this.#state;
      const used = await this.#step(buf, pos, atEnd);
      pos += used;
      this.#offset += used;
      if (used === 0 && this.#state === before) return pos;
    }
  }

  /** Handles one piece of the input at `pos`; returns bytes consumed, 0 when it needs more input. */
  async #step(buf: Buffer, pos: number, atEnd: boolean): Promise<number> {
    const available = buf.length - pos;
    const state = this.#state;
    switch (state.kind) {
      case 'record':
        return available < 4 ? 0 : this.#record(buf, pos);
      case 'stored': {
        const n = Math.min(state.remaining, available);
        if (n > 0) this.#addStored(buf.subarray(pos, pos + n));
        state.remaining -= n;
        if (state.remaining === 0) this.#endOfData();
        return n;
      }
      case 'stored-scan':
        return this.#scanForDescriptor(buf, pos, atEnd);
      case 'deflate':
        return this.#inflate(state, buf, pos);
      case 'descriptor':
        return this.#descriptor(buf, pos, atEnd);
      case 'skip': {
        const n = Math.min(state.remaining, available);
        state.remaining -= n;
        if (state.remaining === 0) this.#state = { kind: 'record' };
        return n;
      }
      case 'done':
        if (available === 0) return 0;
        throw new CorruptZipError(
          `${available}${atEnd ? '' : ' or more'} bytes follow the end of central directory record`,
          this.#offset,
        );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Records

  #record(buf: Buffer, pos: number): number {
    const signature = buf.readUInt32LE(pos);
    switch (signature) {
      case SIG_LOCAL:
        return this.#localHeader(buf, pos);
      case SIG_CENTRAL:
        return this.#centralHeader(buf, pos);
      case SIG_ZIP64_END:
        return this.#zip64EndRecord(buf, pos);
      case SIG_ZIP64_LOCATOR:
        return this.#zip64Locator(buf, pos);
      case SIG_END:
        return this.#endRecord(buf, pos);
      case SIG_DIGITAL_SIGNATURE: {
        if (this.#phase !== 'central') throw this.#unexpected(signature);
        if (buf.length - pos < 6) return 0;
        const size = buf.readUInt16LE(pos + 4);
        // The signature record is the last part of the central directory and counts in its size.
        this.#centralEnd = this.#offset + 6 + size;
        this.#state = { kind: 'skip', remaining: size };
        return 6;
      }
      case SIG_ARCHIVE_EXTRA:
        throw new UnsupportedZipError('archive extra data record (central directory encryption)', this.#offset);
      default:
        throw this.#unexpected(signature);
    }
  }

  #unexpected(signature: number): CorruptZipError {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(signature);
    const printable = bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
    const where =
      this.#offset === 0
        ? 'not a zip archive: it starts with'
        : `expected a ${this.#phase === 'entries' ? 'local file header or central directory' : 'central directory or end'} record, found`;
    return new CorruptZipError(`${where} bytes ${bytes.toString('hex')} (${JSON.stringify(printable)})`, this.#offset);
  }

  #localHeader(buf: Buffer, pos: number): number {
    if (this.#phase !== 'entries') {
      throw new CorruptZipError('local file header after the central directory started', this.#offset);
    }
    if (buf.length - pos < 30) return 0;
    const nameLength = buf.readUInt16LE(pos + 26);
    const extraLength = buf.readUInt16LE(pos + 28);
    const total = 30 + nameLength + extraLength;
    if (buf.length - pos < total) return 0;

    const flags = buf.readUInt16LE(pos + 6);
    const method = buf.readUInt16LE(pos + 8);
    const nameRaw = Buffer.from(buf.subarray(pos + 30, pos + 30 + nameLength));
    const name = decodeName(nameRaw, flags);
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
      throw new UnsupportedZipError(`entry ${JSON.stringify(name)} is encrypted`, this.#offset);
    }
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
      throw new UnsupportedZipError(
        `entry ${JSON.stringify(name)} uses compression method ${method} (only stored and deflate are checked)`,
        this.#offset,
      );
    }
    if (this.#seen.size >= this.#maxEntries) {
      throw new UnsupportedZipError(`more than ${this.#maxEntries} entries`, this.#offset);
    }

    let compressedSize = buf.readUInt32LE(pos + 18);
    let size = buf.readUInt32LE(pos + 22);
    const zip64 = readZip64Extra(buf.subarray(pos + 30 + nameLength, pos + total), {
      size: size === U32_MAX,
      compressedSize: compressedSize === U32_MAX,
      offset: false,
      disk: false,
      // The spec says a local zip64 field holds both sizes; some writers put both even when only one overflows.
      bothSizesInLocal: true,
    });
    if (zip64) {
      if (zip64.size !== undefined) size = zip64.size;
      if (zip64.compressedSize !== undefined) compressedSize = zip64.compressedSize;
    } else if (size === U32_MAX || compressedSize === U32_MAX) {
      throw new CorruptZipError(
        `entry ${JSON.stringify(name)} has 0xFFFFFFFF sizes but no ZIP64 extra field`,
        this.#offset,
      );
    }

    const entry: OpenEntry = {
      nameRaw,
      name,
      offset: this.#offset,
      flags,
      method: method as 0 | 8,
      zip64: zip64 !== undefined,
      declared: { crc32: buf.readUInt32LE(pos + 14), compressedSize, size },
      crc32: 0,
      size: 0,
      compressedSize: 0,
    };
    this.#entry = entry;

    const descriptor = (flags & FLAG_DATA_DESCRIPTOR) !== 0;
    // With a data descriptor the local sizes are usually zero (the writer did not know them yet);
    // when a writer did fill in the compressed size, it is used.
    const knownCompressed = descriptor && compressedSize === 0 ? undefined : compressedSize;
    if (method === METHOD_STORED) {
      if (knownCompressed === undefined) this.#state = { kind: 'stored-scan' };
      else if (knownCompressed === 0) {
        this.#state = { kind: 'stored', remaining: 0 };
        this.#endOfData();
      } else this.#state = { kind: 'stored', remaining: knownCompressed };
    } else {
      this.#state = { kind: 'deflate', remaining: knownCompressed, inflater: new EntryInflater() };
    }
    return total;
  }

  #addStored(data: Buffer): void {
    const entry = this.#entry!;
    entry.crc32 = crc32(data, entry.crc32);
    entry.size += data.length;
    entry.compressedSize += data.length;
  }

  /**
   * Deflated data: bytes go to a raw inflater whose output is CRC'd. With an unknown compressed
   * size (data descriptor), the deflate stream itself says where it ends: the inflater stops
   * consuming input there, and what it left is the data descriptor.
   */
  async #inflate(state: Extract<State, { kind: 'deflate' }>, buf: Buffer, pos: number): Promise<number> {
    const entry = this.#entry!;
    const inflater = state.inflater;
    const available = buf.length - pos;
    if (state.remaining !== undefined) {
      const n = Math.min(state.remaining, available);
      if (n > 0) await this.#inflaterCall(() => inflater.write(buf.subarray(pos, pos + n)));
      state.remaining -= n;
      if (state.remaining === 0) {
        await this.#inflaterCall(() => inflater.finish());
        if (inflater.consumed !== inflater.written) {
          throw new CorruptZipError(
            `entry ${JSON.stringify(entry.name)}: deflate stream ends after ${inflater.consumed} of its ${inflater.written} compressed bytes`,
            entry.offset,
          );
        }
        this.#takeInflated(inflater);
        this.#endOfData();
      }
      return n;
    }
    if (available === 0) return 0;
    const before = inflater.consumed;
    await this.#inflaterCall(() => inflater.write(buf.subarray(pos)));
    const used = inflater.consumed - before;
    if (used < available) {
      // The deflate stream ended inside this buffer: what the inflater left is the descriptor.
      await this.#inflaterCall(() => inflater.finish());
      this.#takeInflated(inflater);
      this.#endOfData();
    }
    return used;
  }

  async #inflaterCall(call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      const entry = this.#entry!;
      throw new CorruptZipError(
        `entry ${JSON.stringify(entry.name)}: deflate data does not inflate (${(err as Error).message})`,
        entry.offset,
        { cause: err },
      );
    }
  }

  #takeInflated(inflater: EntryInflater): void {
    const entry = this.#entry!;
    entry.crc32 = inflater.crc32;
    entry.size = inflater.size;
    entry.compressedSize = inflater.consumed;
    inflater.dispose();
  }

  /** The entry's data has been consumed: check it now, or read its data descriptor first. */
  #endOfData(): void {
    const entry = this.#entry!;
    if (entry.flags & FLAG_DATA_DESCRIPTOR) {
      this.#state = { kind: 'descriptor' };
      return;
    }
    this.#compare(entry, entry.declared, 'local header');
    this.#closeEntry();
  }

  #compare(
    entry: OpenEntry,
    expected: { crc32: number; compressedSize: number; size: number },
    where: 'local header' | 'data descriptor',
  ): void {
    const quoted = JSON.stringify(entry.name);
    if (expected.crc32 !== entry.crc32) {
      throw new CorruptZipError(
        `entry ${quoted}: CRC-32 mismatch: ${where} says ${hex32(expected.crc32)}, data has ${hex32(entry.crc32)}`,
        entry.offset,
      );
    }
    if (expected.size !== entry.size) {
      throw new CorruptZipError(
        `entry ${quoted}: size mismatch: ${where} says ${expected.size} bytes, data has ${entry.size}`,
        entry.offset,
      );
    }
    if (expected.compressedSize !== entry.compressedSize) {
      throw new CorruptZipError(
        `entry ${quoted}: compressed size mismatch: ${where} says ${expected.compressedSize} bytes, data has ${entry.compressedSize}`,
        entry.offset,
      );
    }
  }

  #closeEntry(): void {
    const entry = this.#entry!;
    this.#seen.set(entry.offset, {
      nameKey: entry.nameRaw.toString('latin1'),
      name: entry.name,
      method: entry.method,
      crc32: entry.crc32,
      compressedSize: entry.compressedSize,
      size: entry.size,
      inCentralDirectory: false,
    });
    this.#uncompressedSize += entry.size;
    this.#entry = undefined;
    this.#state = { kind: 'record' };
    this.#onEntry?.({
      name: entry.name,
      offset: entry.offset,
      method: entry.method,
      compressedSize: entry.compressedSize,
      size: entry.size,
      crc32: entry.crc32,
      dataDescriptor: (entry.flags & FLAG_DATA_DESCRIPTOR) !== 0,
      zip64: entry.zip64,
    });
  }

  /**
   * Stored data of unknown length (data-descriptor flag, zero sizes in the local header): the
   * only way to find its end is the descriptor itself. A candidate is the descriptor signature
   * followed by a CRC and sizes that agree with the CRC and length of everything before it;
   * data that merely contains the signature does not also carry its own CRC after it.
   */
  #scanForDescriptor(buf: Buffer, pos: number, atEnd: boolean): number {
    const entry = this.#entry!;
    let committed = pos;
    let from = pos;
    for (;;) {
      const at = buf.indexOf(DESCRIPTOR_SIG_BYTES, from);
      if (at < 0) {
        // Keep the last 3 bytes back: a signature may straddle two chunks.
        const safeEnd = atEnd ? buf.length : Math.max(committed, buf.length - 3);
        if (safeEnd > committed) this.#addStored(buf.subarray(committed, safeEnd));
        return safeEnd - pos;
      }
      if (at + 24 > buf.length && !atEnd) {
        // Not enough bytes yet to test this candidate in both descriptor sizes.
        if (at > committed) this.#addStored(buf.subarray(committed, at));
        return at - pos;
      }
      const crcBefore = crc32(buf.subarray(committed, at), entry.crc32);
      const sizeBefore = entry.size + (at - committed);
      const expected = { crc32: crcBefore, size: sizeBefore, compressedSize: sizeBefore };
      const match = matchDescriptor(buf, at, true, expected, entry.zip64);
      if (match) {
        entry.crc32 = crcBefore;
        entry.size = sizeBefore;
        entry.compressedSize = sizeBefore;
        this.#closeEntry();
        return at - pos + match;
      }
      // Sizes that equal the length so far identify the descriptor as surely as the CRC would:
      // if only the CRC disagrees, the data is damaged (rather than scanning on to the end).
      const crcFound = matchDescriptorSizes(buf, at, expected);
      if (crcFound !== undefined) {
        throw new CorruptZipError(
          `entry ${JSON.stringify(entry.name)}: CRC-32 mismatch: data descriptor says ${hex32(crcFound)}, data has ${hex32(crcBefore)}`,
          entry.offset,
        );
      }
      // Not a descriptor: these bytes are data.
      this.#addStored(buf.subarray(committed, at + 1));
      committed = at + 1;
      from = at + 1;
    }
  }

  /** Reads the data descriptor after an entry's data and checks it against the computed values. */
  #descriptor(buf: Buffer, pos: number, atEnd: boolean): number {
    const entry = this.#entry!;
    const available = buf.length - pos;
    // 24 bytes cover every form (signature + CRC + two 8-byte sizes); a valid archive always has
    // at least the 22-byte end record after the descriptor.
    if (available < 24 && !atEnd) return 0;
    const computed = { crc32: entry.crc32, size: entry.size, compressedSize: entry.compressedSize };
    const hasSignature = available >= 4 && buf.readUInt32LE(pos) === SIG_DESCRIPTOR;
    const used = matchDescriptor(buf, pos, hasSignature, computed, entry.zip64);
    if (used) {
      this.#closeEntry();
      return used;
    }
    // Explain the disagreement with the most likely form of the descriptor.
    const base = pos + (hasSignature ? 4 : 0);
    if (buf.length - base < 12) {
      throw new CorruptZipError(`entry ${JSON.stringify(entry.name)}: data descriptor is missing`, this.#offset);
    }
    const wide = entry.zip64 && buf.length - base >= 20;
    const found = {
      crc32: buf.readUInt32LE(base),
      compressedSize: wide ? Number(buf.readBigUInt64LE(base + 4)) : buf.readUInt32LE(base + 4),
      size: wide ? Number(buf.readBigUInt64LE(base + 12)) : buf.readUInt32LE(base + 8),
    };
    this.#compare(entry, found, 'data descriptor');
    throw new CorruptZipError(`entry ${JSON.stringify(entry.name)}: data descriptor is not readable`, this.#offset);
  }

  #centralHeader(buf: Buffer, pos: number): number {
    if (this.#phase === 'entries') {
      this.#phase = 'central';
      this.#centralStart = this.#offset;
    } else if (this.#phase !== 'central') {
      throw new CorruptZipError('central directory header after the end records started', this.#offset);
    }
    if (buf.length - pos < 46) return 0;
    const nameLength = buf.readUInt16LE(pos + 28);
    const extraLength = buf.readUInt16LE(pos + 30);
    const commentLength = buf.readUInt16LE(pos + 32);
    const total = 46 + nameLength + extraLength + commentLength;
    if (buf.length - pos < total) return 0;

    const flags = buf.readUInt16LE(pos + 8);
    const method = buf.readUInt16LE(pos + 10);
    const crc = buf.readUInt32LE(pos + 16);
    let compressedSize = buf.readUInt32LE(pos + 20);
    let size = buf.readUInt32LE(pos + 24);
    let disk = buf.readUInt16LE(pos + 34);
    let offset = buf.readUInt32LE(pos + 42);
    const nameRaw = buf.subarray(pos + 46, pos + 46 + nameLength);
    const name = decodeName(nameRaw, flags);
    const zip64 = readZip64Extra(buf.subarray(pos + 46 + nameLength, pos + 46 + nameLength + extraLength), {
      size: size === U32_MAX,
      compressedSize: compressedSize === U32_MAX,
      offset: offset === U32_MAX,
      disk: disk === U16_MAX,
      bothSizesInLocal: false,
    });
    if (zip64) {
      size = zip64.size ?? size;
      compressedSize = zip64.compressedSize ?? compressedSize;
      offset = zip64.offset ?? offset;
      disk = zip64.disk ?? disk;
    }
    const quoted = JSON.stringify(name);
    if (disk !== 0)
      throw new UnsupportedZipError(`entry ${quoted} is on disk ${disk} (multi-disk archive)`, this.#offset);

    const seen = this.#seen.get(offset);
    if (!seen) {
      throw new CorruptZipError(
        `central directory entry ${quoted} points to offset ${offset}, where no local file header was found`,
        this.#offset,
      );
    }
    const differences: string[] = [];
    if (seen.inCentralDirectory) differences.push('listed twice');
    if (seen.nameKey !== nameRaw.toString('latin1'))
      differences.push(`local header names it ${JSON.stringify(seen.name)}`);
    if (seen.method !== method) differences.push(`method ${method}, local header ${seen.method}`);
    if (seen.crc32 !== crc) differences.push(`CRC-32 ${hex32(crc)}, data has ${hex32(seen.crc32)}`);
    if (seen.size !== size) differences.push(`size ${size}, data has ${seen.size}`);
    if (seen.compressedSize !== compressedSize) {
      differences.push(`compressed size ${compressedSize}, data has ${seen.compressedSize}`);
    }
    if (differences.length > 0) {
      throw new CorruptZipError(
        `central directory entry ${quoted} (local header at ${offset}) disagrees: ${differences.join('; ')}`,
        this.#offset,
      );
    }
    seen.inCentralDirectory = true;
    this.#centralCount++;
    this.#centralEnd = this.#offset + total;
    return total;
  }

  #zip64EndRecord(buf: Buffer, pos: number): number {
    if (this.#phase !== 'entries' && this.#phase !== 'central') throw this.#unexpected(SIG_ZIP64_END);
    if (buf.length - pos < 12) return 0;
    const recordSize = Number(buf.readBigUInt64LE(pos + 4));
    if (recordSize < 44 || recordSize > MAX_ZIP64_END_RECORD) {
      throw new CorruptZipError(
        `zip64 end of central directory record has an impossible size ${recordSize}`,
        this.#offset,
      );
    }
    const total = 12 + recordSize;
    if (buf.length - pos < total) return 0;
    const disk = buf.readUInt32LE(pos + 16);
    const cdDisk = buf.readUInt32LE(pos + 20);
    if (disk !== 0 || cdDisk !== 0) throw new UnsupportedZipError('multi-disk archive', this.#offset);
    const record = {
      offset: this.#offset,
      entriesOnDisk: Number(buf.readBigUInt64LE(pos + 24)),
      entries: Number(buf.readBigUInt64LE(pos + 32)),
      cdSize: Number(buf.readBigUInt64LE(pos + 40)),
      cdOffset: Number(buf.readBigUInt64LE(pos + 48)),
    };
    this.#checkDirectoryTotals('zip64 end of central directory record', record, false);
    if (record.entriesOnDisk !== record.entries) {
      throw new CorruptZipError(
        `zip64 end record counts ${record.entriesOnDisk} entries on this disk but ${record.entries} in total`,
        this.#offset,
      );
    }
    this.#endCentralDirectory();
    this.#zip64End = record;
    this.#phase = 'zip64-end';
    return total;
  }

  #zip64Locator(buf: Buffer, pos: number): number {
    if (this.#phase !== 'zip64-end') {
      throw new CorruptZipError('zip64 end of central directory locator without a zip64 end record', this.#offset);
    }
    if (buf.length - pos < 20) return 0;
    const recordOffset = Number(buf.readBigUInt64LE(pos + 8));
    const disks = buf.readUInt32LE(pos + 16);
    if (recordOffset !== this.#zip64End!.offset) {
      throw new CorruptZipError(
        `zip64 locator points to offset ${recordOffset}, but the zip64 end record is at ${this.#zip64End!.offset}`,
        this.#offset,
      );
    }
    if (disks > 1) throw new UnsupportedZipError(`multi-disk archive (${disks} disks)`, this.#offset);
    this.#zip64LocatorSeen = true;
    this.#phase = 'zip64-locator';
    return 20;
  }

  #endRecord(buf: Buffer, pos: number): number {
    if (this.#phase === 'zip64-end') {
      throw new CorruptZipError(
        'end of central directory record follows a zip64 end record without a locator',
        this.#offset,
      );
    }
    if (buf.length - pos < 22) return 0;
    const commentLength = buf.readUInt16LE(pos + 20);
    const total = 22 + commentLength;
    if (buf.length - pos < total) return 0;
    const disk = buf.readUInt16LE(pos + 4);
    const cdDisk = buf.readUInt16LE(pos + 6);
    const entriesOnDisk = buf.readUInt16LE(pos + 8);
    const entries = buf.readUInt16LE(pos + 10);
    const cdSize = buf.readUInt32LE(pos + 12);
    const cdOffset = buf.readUInt32LE(pos + 16);
    const zip64 = this.#zip64LocatorSeen;
    if (!zip64 && (disk !== 0 || cdDisk !== 0)) throw new UnsupportedZipError('multi-disk archive', this.#offset);
    if (entriesOnDisk !== entries) {
      throw new CorruptZipError(
        `end record counts ${entriesOnDisk} entries on this disk but ${entries} in total`,
        this.#offset,
      );
    }
    this.#endCentralDirectory();
    // With a zip64 end record, fields set to their maximum defer to it; others must still agree.
    this.#checkDirectoryTotals(
      'end of central directory record',
      { entries, cdSize, cdOffset },
      zip64,
      zip64 ? { entries: U16_MAX, cdSize: U32_MAX, cdOffset: U32_MAX } : undefined,
    );
    this.#phase = 'done';
    this.#state = { kind: 'done' };
    return total;
  }

  /** The first record after the central directory headers ends the directory. */
  #endCentralDirectory(): void {
    if (this.#phase === 'entries') {
      // No central directory headers at all: an empty archive (or one whose directory is missing).
      this.#centralStart = this.#offset;
      this.#centralEnd = this.#offset;
      this.#phase = 'central';
    }
    if (this.#phase === 'central' && this.#centralEnd === undefined) this.#centralEnd = this.#offset;
    const missing = [...this.#seen.values()].filter((entry) => !entry.inCentralDirectory);
    if (missing.length > 0) {
      throw new CorruptZipError(
        `${missing.length} entr${missing.length === 1 ? 'y is' : 'ies are'} missing from the central directory ` +
          `(${missing
            .slice(0, 3)
            .map((entry) => JSON.stringify(entry.name))
            .join(', ')}${missing.length > 3 ? ', …' : ''})`,
        this.#offset,
      );
    }
  }

  #checkDirectoryTotals(
    record: string,
    found: { entries: number; cdSize: number; cdOffset: number },
    deferToZip64: boolean,
    deferredValues?: { entries: number; cdSize: number; cdOffset: number },
  ): void {
    const actual = {
      entries: this.#centralCount,
      cdSize: (this.#centralEnd ?? this.#offset) - (this.#centralStart ?? this.#offset),
      cdOffset: this.#centralStart ?? this.#offset,
    };
    const labels = { entries: 'entry count', cdSize: 'central directory size', cdOffset: 'central directory offset' };
    for (const field of ['entries', 'cdSize', 'cdOffset'] as const) {
      if (deferToZip64 && deferredValues && found[field] === deferredValues[field]) continue;
      // A 16/32-bit field that is not deferred must hold the real value (it fits, or zip64 would be needed).
      if (found[field] !== actual[field]) {
        throw new CorruptZipError(
          `${record} says ${labels[field]} ${found[field]}, archive has ${actual[field]}`,
          this.#offset,
        );
      }
    }
  }
}

/** Signatures that may follow a data descriptor. */
const NEXT_RECORD = new Set([SIG_LOCAL, SIG_CENTRAL, SIG_ZIP64_END, SIG_END, SIG_DIGITAL_SIGNATURE]);

/**
 * Finds a data descriptor at `at` whose values equal `expected`; returns its length, or 0. Both
 * widths are tried, ZIP64's 8-byte sizes first for ZIP64 entries: for an empty entry the two
 * readings can both agree, and then the one followed by a zip record signature wins.
 */
function matchDescriptor(
  buf: Buffer,
  at: number,
  withSignature: boolean,
  expected: { crc32: number; size: number; compressedSize: number },
  prefer64: boolean,
): number {
  const head = withSignature ? 4 : 0;
  const base = at + head;
  if (withSignature && (buf.length - at < 4 || buf.readUInt32LE(at) !== SIG_DESCRIPTOR)) return 0;
  if (buf.length - base < 12 || buf.readUInt32LE(base) !== expected.crc32) return 0;
  const narrow = (): boolean =>
    buf.readUInt32LE(base + 4) === expected.compressedSize && buf.readUInt32LE(base + 8) === expected.size;
  const wide = (): boolean =>
    buf.length - base >= 20 &&
    Number(buf.readBigUInt64LE(base + 4)) === expected.compressedSize &&
    Number(buf.readBigUInt64LE(base + 12)) === expected.size;
  const followedByRecord = (length: number): boolean =>
    buf.length < at + length + 4 || NEXT_RECORD.has(buf.readUInt32LE(at + length));
  const forms: [number, () => boolean][] = prefer64
    ? [
        [head + 20, wide],
        [head + 12, narrow],
      ]
    : [
        [head + 12, narrow],
        [head + 20, wide],
      ];
  const agreeing = forms.filter(([, agrees]) => agrees()).map(([length]) => length);
  return agreeing.find(followedByRecord) ?? agreeing[0] ?? 0;
}

/** The CRC of a signed descriptor at `at` whose sizes equal `expected`'s, if there is one. */
function matchDescriptorSizes(
  buf: Buffer,
  at: number,
  expected: { size: number; compressedSize: number },
): number | undefined {
  const base = at + 4;
  if (buf.length - base < 12) return undefined;
  if (buf.readUInt32LE(base + 4) === expected.compressedSize && buf.readUInt32LE(base + 8) === expected.size) {
    return buf.readUInt32LE(base);
  }
  if (
    buf.length - base >= 20 &&
    Number(buf.readBigUInt64LE(base + 4)) === expected.compressedSize &&
    Number(buf.readBigUInt64LE(base + 12)) === expected.size
  ) {
    return buf.readUInt32LE(base);
  }
  return undefined;
}

interface Zip64Values {
  size?: number;
  compressedSize?: number;
  offset?: number;
  disk?: number;
}

/**
 * Reads the ZIP64 extended information extra field. Its 8-byte values appear only for the fields
 * whose 32-bit header value is maxed out, in the order size, compressed size, offset, disk.
 */
function readZip64Extra(
  extra: Buffer,
  wanted: { size: boolean; compressedSize: boolean; offset: boolean; disk: boolean; bothSizesInLocal: boolean },
): Zip64Values | undefined {
  for (let at = 0; at + 4 <= extra.length;) {
    const id = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    const data = extra.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    if (id !== ZIP64_EXTRA_ID) continue;
    const values: Zip64Values = {};
    let cursor = 0;
    const take = (): number | undefined => {
      if (cursor + 8 > data.length) return undefined;
      const value = Number(data.readBigUInt64LE(cursor));
      cursor += 8;
      return value;
    };
    if (wanted.bothSizesInLocal && data.length >= 16) {
      // Local headers carry both sizes when the field is present, whichever overflowed.
      const size = take();
      const compressedSize = take();
      if (wanted.size) values.size = size;
      if (wanted.compressedSize) values.compressedSize = compressedSize;
      return values;
    }
    if (wanted.size) values.size = take();
    if (wanted.compressedSize) values.compressedSize = take();
    if (wanted.offset) values.offset = take();
    if (wanted.disk && cursor + 4 <= data.length) values.disk = data.readUInt32LE(cursor);
    return values;
  }
  return undefined;
}

function decodeName(raw: Buffer, flags: number): string {
  return raw.toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1');
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/**
 * A raw inflater for one entry whose output is CRC'd and counted as it is produced, so nothing
 * but zlib's own window is held. `consumed` (zlib's own count of input it accepted) stops growing
 * where the deflate stream ends, which is how entries of unknown compressed size are delimited.
 */
class EntryInflater {
  readonly #zlib: InflateRaw = createInflateRaw();
  readonly #ended: Promise<void>;
  #error: Error | undefined;
  crc32 = 0;
  size = 0;
  written = 0;

  constructor() {
    this.#zlib.on('data', (chunk: Buffer) => {
      this.crc32 = crc32(chunk, this.crc32);
      this.size += chunk.length;
    });
    this.#ended = new Promise<void>((resolve, reject) => {
      this.#zlib.once('end', resolve);
      this.#zlib.once('error', (err) => {
        this.#error = err;
        reject(err);
      });
    });
    // Observed through write()/finish(); never let it surface as an unhandled rejection.
    this.#ended.catch(() => undefined);
  }

  get consumed(): number {
    return this.#zlib.bytesWritten;
  }

  async write(data: Buffer): Promise<void> {
    if (this.#error) throw this.#error;
    this.written += data.length;
    await Promise.race([
      new Promise<void>((resolve, reject) => this.#zlib.write(data, (err) => (err ? reject(err) : resolve()))),
      this.#ended.then(() => new Promise<void>(() => undefined)),
    ]).catch((err: unknown) => {
      throw this.#error ?? err;
    });
    if (this.#error) throw this.#error;
  }

  /** Ends the input (if the stream has not ended by itself) and waits for the last output. */
  async finish(): Promise<void> {
    if (!this.#zlib.writableEnded) this.#zlib.end();
    await this.#ended;
  }

  dispose(): void {
    this.#zlib.destroy();
  }
}
