/**
 * A minimal, independent zip reader for tests: it reads only the byte ranges it needs (so it can
 * inspect multi-GiB products without materialising them) and knows ZIP64.
 */
export type ReadRange = (start: number, endInclusive: number) => Promise<Buffer>;

export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  dataOffset: number;
}

export interface ZipDirectory {
  zip64: boolean;
  centralDirectoryOffset: number;
  entries: ZipEntry[];
}

const U32_MAX = 0xffffffff;

export async function readZipDirectory(read: ReadRange, fileSize: number): Promise<ZipDirectory> {
  const tailStart = Math.max(0, fileSize - 22 - 0xffff);
  const tail = await read(tailStart, fileSize - 1);
  const eocdAt = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocdAt < 0) throw new Error('no end of central directory record');
  const eocd = tail.subarray(eocdAt);
  let count = eocd.readUInt16LE(10);
  let cdSize = eocd.readUInt32LE(12);
  let cdOffset = eocd.readUInt32LE(16);
  let zip64 = false;
  const locatorAt = eocdAt - 20;
  if (locatorAt >= 0 && tail.readUInt32LE(locatorAt) === 0x07064b50) {
    zip64 = true;
    const end64Offset = Number(tail.readBigUInt64LE(locatorAt + 8));
    const end64 = await read(end64Offset, end64Offset + 55);
    if (end64.readUInt32LE(0) !== 0x06064b50) throw new Error('bad ZIP64 end of central directory record');
    count = Number(end64.readBigUInt64LE(32));
    cdSize = Number(end64.readBigUInt64LE(40));
    cdOffset = Number(end64.readBigUInt64LE(48));
  }
  const cd = await read(cdOffset, cdOffset + cdSize - 1);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory header ${i}`);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    let size = cd.readUInt32LE(p + 24);
    let compressedSize = cd.readUInt32LE(p + 20);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const extra = cd.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
    for (let x = 0; x + 4 <= extra.length;) {
      const tag = extra.readUInt16LE(x);
      const length = extra.readUInt16LE(x + 2);
      if (tag === 0x0001) {
        let q = x + 4;
        // Only the fields whose 32-bit value is the sentinel are present, in this order.
        if (size === U32_MAX) {
          size = Number(extra.readBigUInt64LE(q));
          q += 8;
        }
        if (compressedSize === U32_MAX) {
          compressedSize = Number(extra.readBigUInt64LE(q));
          q += 8;
        }
        if (localHeaderOffset === U32_MAX) localHeaderOffset = Number(extra.readBigUInt64LE(q));
      }
      x += 4 + length;
    }
    const name = cd.subarray(p + 46, p + 46 + nameLength).toString('utf8');
    const local = await read(localHeaderOffset, localHeaderOffset + 29);
    if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const dataOffset = localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    entries.push({
      name,
      method: cd.readUInt16LE(p + 10),
      crc32: cd.readUInt32LE(p + 16),
      compressedSize,
      size,
      localHeaderOffset,
      dataOffset,
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return { zip64, centralDirectoryOffset: cdOffset, entries };
}

/** Reads a local header's own CRC and sizes (ZIP64 extra included), to compare with the central directory. */
export async function readLocalHeader(
  read: ReadRange,
  offset: number,
): Promise<{ name: string; crc32: number; size: number; compressedSize: number; flags: number }> {
  const fixed = await read(offset, offset + 29);
  const nameLength = fixed.readUInt16LE(26);
  const extraLength = fixed.readUInt16LE(28);
  const whole = await read(offset, offset + 30 + nameLength + extraLength - 1);
  let size = whole.readUInt32LE(22);
  let compressedSize = whole.readUInt32LE(18);
  const extra = whole.subarray(30 + nameLength);
  for (let x = 0; x + 4 <= extra.length; x += 4 + extra.readUInt16LE(x + 2)) {
    if (extra.readUInt16LE(x) === 0x0001) {
      size = Number(extra.readBigUInt64LE(x + 4));
      compressedSize = Number(extra.readBigUInt64LE(x + 12));
    }
  }
  return {
    name: whole.subarray(30, 30 + nameLength).toString('utf8'),
    crc32: whole.readUInt32LE(14),
    size,
    compressedSize,
    flags: whole.readUInt16LE(6),
  };
}
