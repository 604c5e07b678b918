/**
 * A tiny zip writer for tests: stored and deflated entries, data descriptors with or without
 * their signature, ZIP64 extra fields and end records on demand, and a layout of where every
 * piece landed so tests can damage exactly one byte of one structure.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface TestZipEntry {
  name: string;
  data: Buffer;
  method?: 'stored' | 'deflate';
  /** Write CRC and sizes after the data (bit 3): `signed` with the PK\x07\x08 signature, `unsigned` without. */
  descriptor?: 'none' | 'signed' | 'unsigned';
  /** With a descriptor: also fill the sizes in the local header (some writers do). */
  sizesInLocalHeader?: boolean;
  /** Use ZIP64 extra fields (and 8-byte descriptor sizes) even though the sizes are small. */
  zip64?: boolean;
}

export interface TestZipOptions {
  /** Write a ZIP64 end record and locator, with the classic end record's fields maxed out. */
  zip64End?: boolean;
  comment?: string;
}

export interface TestZipLayout {
  entries: { name: string; headerOffset: number; dataOffset: number; dataLength: number; crc32: number }[];
  centralDirectoryOffset: number;
  /** Offset of each central directory header, in entry order. */
  centralHeaders: number[];
  endOffset: number;
}

const u16 = (value: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
};
const u32 = (value: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
};
const u64 = (value: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
};

export function buildZip(
  entries: TestZipEntry[],
  options: TestZipOptions = {},
): { zip: Buffer; layout: TestZipLayout } {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (buffer: Buffer): void => {
    parts.push(buffer);
    offset += buffer.length;
  };
  const layout: TestZipLayout = { entries: [], centralDirectoryOffset: 0, centralHeaders: [], endOffset: 0 };
  const central: {
    entry: TestZipEntry;
    crc: number;
    csize: number;
    usize: number;
    offset: number;
    flags: number;
    method: number;
  }[] = [];

  for (const entry of entries) {
    const method = entry.method === 'deflate' ? 8 : 0;
    const compressed = method === 8 ? deflateRawSync(entry.data) : entry.data;
    const crc = crc32(entry.data);
    const descriptor = entry.descriptor ?? 'none';
    const flags = (descriptor !== 'none' ? 0x0008 : 0) | 0x0800;
    const name = Buffer.from(entry.name, 'utf8');
    const deferred = descriptor !== 'none' && !entry.sizesInLocalHeader;
    const localCrc = descriptor !== 'none' ? 0 : crc;
    const localCsize = deferred ? 0 : compressed.length;
    const localUsize = deferred ? 0 : entry.data.length;
    const extra = entry.zip64
      ? Buffer.concat([u16(0x0001), u16(16), u64(localUsize), u64(localCsize)])
      : Buffer.alloc(0);
    const headerOffset = offset;
    push(
      Buffer.concat([
        u32(0x04034b50),
        u16(entry.zip64 ? 45 : 20),
        u16(flags),
        u16(method),
        u16(0),
        u16(0x21),
        u32(localCrc),
        u32(entry.zip64 ? 0xffffffff : localCsize),
        u32(entry.zip64 ? 0xffffffff : localUsize),
        u16(name.length),
        u16(extra.length),
        name,
        extra,
      ]),
    );
    const dataOffset = offset;
    push(compressed);
    if (descriptor !== 'none') {
      const sizes = entry.zip64
        ? [u64(compressed.length), u64(entry.data.length)]
        : [u32(compressed.length), u32(entry.data.length)];
      push(Buffer.concat([...(descriptor === 'signed' ? [u32(0x08074b50)] : []), u32(crc), ...sizes]));
    }
    layout.entries.push({ name: entry.name, headerOffset, dataOffset, dataLength: compressed.length, crc32: crc });
    central.push({
      entry,
      crc,
      csize: compressed.length,
      usize: entry.data.length,
      offset: headerOffset,
      flags,
      method,
    });
  }

  const cdOffset = offset;
  layout.centralDirectoryOffset = cdOffset;
  for (const { entry, crc, csize, usize, offset: headerOffset, flags, method } of central) {
    const name = Buffer.from(entry.name, 'utf8');
    const extra = entry.zip64
      ? Buffer.concat([u16(0x0001), u16(24), u64(usize), u64(csize), u64(headerOffset)])
      : Buffer.alloc(0);
    layout.centralHeaders.push(offset);
    push(
      Buffer.concat([
        u32(0x02014b50),
        u16(entry.zip64 ? 45 : 20),
        u16(entry.zip64 ? 45 : 20),
        u16(flags),
        u16(method),
        u16(0),
        u16(0x21),
        u32(crc),
        u32(entry.zip64 ? 0xffffffff : csize),
        u32(entry.zip64 ? 0xffffffff : usize),
        u16(name.length),
        u16(extra.length),
        u16(0),
        u16(0),
        u16(0),
        u32(0),
        u32(entry.zip64 ? 0xffffffff : headerOffset),
        name,
        extra,
      ]),
    );
  }
  const cdSize = offset - cdOffset;
  const count = entries.length;

  if (options.zip64End) {
    const zip64EndOffset = offset;
    push(
      Buffer.concat([
        u32(0x06064b50),
        u64(44),
        u16(45),
        u16(45),
        u32(0),
        u32(0),
        u64(count),
        u64(count),
        u64(cdSize),
        u64(cdOffset),
      ]),
    );
    push(Buffer.concat([u32(0x07064b50), u32(0), u64(zip64EndOffset), u32(1)]));
  }
  const comment = Buffer.from(options.comment ?? '', 'utf8');
  layout.endOffset = offset;
  push(
    Buffer.concat([
      u32(0x06054b50),
      u16(0),
      u16(0),
      u16(options.zip64End ? 0xffff : count),
      u16(options.zip64End ? 0xffff : count),
      u32(options.zip64End ? 0xffffffff : cdSize),
      u32(options.zip64End ? 0xffffffff : cdOffset),
      u16(comment.length),
      comment,
    ]),
  );
  return { zip: Buffer.concat(parts), layout };
}

/** Deterministic bytes that do not compress much (so deflated entries have real deflate blocks). */
export function noise(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Yields `data` in chunks of `size` bytes (1 = byte by byte, to cross every boundary). */
export async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
