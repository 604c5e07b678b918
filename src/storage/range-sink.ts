/**
 * What parallel ranged delivery (src/activities/ranged-delivery.ts) writes its ranges into: a
 * local `.part` file (ranged-part.ts) or an S3 multipart upload, one part per range
 * (s3-ranged.ts). One engine fetches the ranges, adapts its connections and resumes; the sink
 * stores each range, verifies the product in byte order and commits it.
 */
import type { ProductExpectations, VerificationRecord } from './integrity';

/** Which ranges of a product have landed, as a heartbeat carries it. */
export interface RangeMap {
  size: number;
  rangeBytes: number;
  /** Indices of ranges whose every byte is stored, as `0-5,7,9-12`. */
  done: string;
}

/** Indices as a compact text (`0-5,7`). */
export function formatRanges(indices: Iterable<number>): string {
  const sorted = [...indices].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The indices of a {@link formatRanges} text below `count`; malformed parts are ignored (they are refetched). */
export function parseRanges(text: string, count: number): Set<number> {
  const done = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const first = Number(m[1]);
    const last = Math.min(Number(m[2] ?? m[1]), count - 1);
    for (let i = first; i <= last; i++) done.add(i);
  }
  return done;
}

/** One product being filled range by range. */
export interface RangeSink {
  readonly count: number;
  /** Inclusive byte span of range `index`. */
  span(index: number): { start: number; end: number };
  /** Ranges still to fetch, in byte order. */
  pending(): number[];
  /** Bytes in landed ranges plus those landed of ranges in progress. */
  readonly landedBytes: number;
  /** The range map for a heartbeat. */
  map(): RangeMap;
  /**
   * Waits until range `index` may be fetched (a sink that holds ranges in memory bounds how many);
   * absent when any range may be fetched at any time.
   */
  admit?(index: number, signal: AbortSignal): Promise<void>;
  /**
   * Stores `body`, which must be exactly range `index`; resolves once the range counts as landed.
   * `releaseChunks`: the body's chunks are this call's alone; a sink that keeps none may free them.
   */
  writeRange(
    index: number,
    body: AsyncIterable<Uint8Array>,
    onLanded?: () => void,
    options?: { releaseChunks?: boolean },
  ): Promise<void>;
  /**
   * Starts (once) the in-byte-order verifier; rejects at the first failed check. Resolves with the
   * record, or with undefined when the verdict can only come after {@link commit} (a resumed S3
   * upload whose earlier parts this attempt never saw).
   */
  verify(): Promise<VerificationRecord | undefined>;
  /** Stops the verifier and the range writers (a failed range, cancellation). */
  stop(reason: unknown): void;
  /** Releases what the verifier holds when the product is not committed. */
  dispose(): void;
  /** Makes the verified product final; resolves with its verification record. */
  commit(): Promise<VerificationRecord>;
}

/** Where a product's ranges go: opens the {@link RangeSink} once the product's size is known. */
export interface RangeTarget {
  /** The smallest range this target takes (S3: every part but the last is at least 5 MiB). */
  readonly minRangeBytes?: number;
  /** Drops every range an earlier attempt stored (the product changed): all are fetched again. */
  restart(): Promise<void>;
  open(size: number, rangeBytes: number, done: Set<number>, expect: ProductExpectations): RangeSink;
}

/** A product cut into fixed ranges, and which of them have landed: what every {@link RangeSink} shares. */
export class RangeLayout {
  readonly count: number;
  /** Ranges landed whole. */
  protected readonly done: Set<number>;
  /** Bytes landed from each range's start (ranges in progress only). */
  protected readonly landed = new Map<number, number>();

  constructor(
    readonly size: number,
    readonly rangeBytes: number,
    done: Set<number>,
  ) {
    this.count = Math.max(1, Math.ceil(size / rangeBytes));
    this.done = new Set([...done].filter((i) => i < this.count));
  }

  span(index: number): { start: number; end: number } {
    const start = index * this.rangeBytes;
    return { start, end: Math.min(this.size, start + this.rangeBytes) - 1 };
  }

  pending(): number[] {
    return Array.from({ length: this.count }, (_, i) => i).filter((i) => !this.done.has(i));
  }

  get landedBytes(): number {
    let bytes = 0;
    for (const i of this.done) bytes += this.span(i).end - this.span(i).start + 1;
    for (const b of this.landed.values()) bytes += b;
    return bytes;
  }

  map(): RangeMap {
    return { size: this.size, rangeBytes: this.rangeBytes, done: formatRanges(this.done) };
  }
}
