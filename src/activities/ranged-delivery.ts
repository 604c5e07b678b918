/**
 * Parallel ranged delivery of one product: up to `maxConnections` ranged GETs on the same link,
 * each range stored by a range sink — written at its offset in a local `.part` (ranged-part.ts,
 * {@link localRanges}) or held in memory and stored as its S3 multipart part (storage/s3-ranged.ts)
 * — and verified in byte order. This module is the one engine for both: fetching, adapting the
 * connections, resuming.
 *
 * - A probe (the first range still missing) decides: a 206 with the product's total size goes on
 *   in ranges; a 200 (a server that ignores `Range`, or an `If-Range` that no longer matches) is
 *   handed back as one stream from the first byte.
 * - Adaptive: it starts with {@link START_CONNECTIONS} and doubles every {@link RAMP_WINDOW_MS}
 *   while the total rate grows by {@link RAMP_GAIN}; a 429/503 (or the worker's Retry-After gate
 *   refusing) on one connection puts its range back and caps the connections at those still
 *   working; only when none is left does the attempt fail with that rate-limit error, and Temporal
 *   retries after its Retry-After. Connections beyond the first come from the worker's budget.
 * - Any other failure of a range stops the others, and the attempt fails; the range map in the
 *   heartbeat lets the next attempt fetch only the ranges not landed whole.
 */
import type { HookClient, ProductResponse } from '../hook/client';
import { HookError, HookRateLimitError } from '../hook/errors';
import type { PartFile } from '../storage/local-sink';
import { RangedPart } from '../storage/ranged-part';
import { type RangeMap, type RangeTarget, parseRanges } from '../storage/range-sink';
import type { VerificationRecord } from '../storage/integrity';
import { type ConnectionBudget } from './connection-budget';

/** Connections a delivery opens at once before it has measured anything. */
export const START_CONNECTIONS = 2;
/** How long the rate is measured before connections are doubled again. */
const RAMP_WINDOW_MS = 500;
/** Doubling goes on only while it raises the total rate by this factor. */
const RAMP_GAIN = 1.2;
/** Size of one range (one ranged GET). */
export const DEFAULT_RANGE_BYTES = 8 * 1024 * 1024;
/** The smallest range chosen for a product of known size. */
const MIN_RANGE_BYTES = 1024 * 1024;
/** Ranges per connection aimed at when the product's size is known. */
const RANGES_PER_CONNECTION = 4;

/** What a ranged attempt leaves in its heartbeat. */
export interface RangedCheckpoint {
  ranges: RangeMap;
  validator?: string;
  /** Connections that worked before a 429/503: a resumed attempt starts no higher. */
  connections?: number;
}

export interface RangedDeliveryInput {
  hook: HookClient;
  url: string;
  /** Where the ranges go: {@link localRanges} or an S3 upload. */
  target: RangeTarget;
  processedSize?: number;
  /** The previous attempt's ranged checkpoint, if any. */
  resume?: RangedCheckpoint;
  /** Bytes a previous single-stream attempt left at the start of the file (its ranges count as landed). */
  resumeBytes?: number;
  /** The validator of those bytes' body (sent as If-Range, so a changed product is not resumed). */
  resumeValidator?: string;
  maxConnections: number;
  budget: ConnectionBudget;
  rangeBytes?: number;
  signal: AbortSignal;
  onCheckpoint: (checkpoint: RangedCheckpoint, bytes: number) => void;
}

export type RangedOutcome =
  | { verification: VerificationRecord; size: number }
  /** The server sent the whole product (200): deliver it as one stream from the first byte. */
  | { wholeBody: ProductResponse };

export async function deliverRanged(input: RangedDeliveryInput): Promise<RangedOutcome> {
  const rangeBytes =
    input.resume?.ranges.rangeBytes ??
    rangeSize(input.processedSize, input.maxConnections, input.rangeBytes, input.target.minRangeBytes);
  const stop = new AbortController();
  const signal = AbortSignal.any([input.signal, stop.signal]);
  const known = input.resume;
  const knownDone = known
    ? parseRanges(known.ranges.done, Math.ceil(known.ranges.size / known.ranges.rangeBytes))
    : undefined;
  // Every range landed but the file was not committed (killed while syncing): the last one is fetched again.
  if (known && knownDone!.size * known.ranges.rangeBytes >= known.ranges.size) {
    knownDone!.delete(Math.ceil(known.ranges.size / known.ranges.rangeBytes) - 1);
  }
  let firstIndex = known && known.ranges.rangeBytes === rangeBytes ? firstMissing(knownDone!) : 0;
  const openRange = (index: number, ifRange: string | undefined) =>
    input.hook.openProduct({
      url: input.url,
      offset: index * rangeBytes,
      end: (index + 1) * rangeBytes - 1,
      ifRange,
      signal,
    });
  let probe: ProductResponse;
  try {
    probe = await openRange(
      firstIndex,
      known ? known.validator : input.resumeBytes ? input.resumeValidator : undefined,
    );
  } catch (err) {
    // 416: the first missing range starts past the product's end, so it shrank since those
    // ranges landed (same or no validator). Start over from the first byte.
    if (!known || firstIndex === 0 || !(err instanceof HookError && err.status === 416)) throw err;
    firstIndex = 0;
    probe = await openRange(0, undefined);
  }
  if (!probe.partial || probe.totalSize === undefined) return { wholeBody: probe };
  const size = probe.totalSize;
  const validator = probe.etag ?? probe.lastModified;
  // A resume keeps the landed ranges only of the same representation, cut the same way.
  const sameObject =
    known !== undefined &&
    known.ranges.size === size &&
    known.ranges.rangeBytes === rangeBytes &&
    (known.validator === undefined || known.validator === validator);
  // A changed product (size or ETag) restarts from an empty file: every range is fetched again,
  // the probe's one included (and nothing of the old product lies past the new one's end).
  const restart = known !== undefined && !sameObject;
  if (restart) {
    await input.target.restart().catch((err: unknown) => {
      probe.body.destroy();
      throw err;
    });
  }
  const done = sameObject
    ? knownDone!
    : known
      ? new Set<number>()
      : prefixRanges(input.resumeBytes ?? 0, rangeBytes, size);
  const ranged = input.target.open(size, rangeBytes, done, {
    contentLength: size,
    processedSize: input.processedSize,
  });

  let allowed = Math.min(input.maxConnections, sameObject ? (known?.connections ?? Infinity) : Infinity);
  const queue = ranged.pending().filter((i) => i !== firstIndex);
  let active = 0;
  let received = 0;
  let rateLimit: unknown;
  let failure: unknown;
  const checkpoint = () =>
    input.onCheckpoint(
      { ranges: ranged.map(), validator, connections: rateLimit || known?.connections ? allowed : undefined },
      ranged.landedBytes,
    );
  // The old range map must not outlive this decision: an attempt killed before its first range
  // lands would otherwise hand the next one a map of the old product.
  if (restart) checkpoint();
  const counted = async function* (body: AsyncIterable<Uint8Array>) {
    for await (const chunk of body) {
      received += chunk.byteLength;
      yield chunk;
    }
  };
  const fail = (err: unknown) => {
    failure ??= err;
    ranged.stop(err);
    stop.abort(err);
  };

  /** One connection: fetches ranges from the queue until it is empty, or it is refused. */
  const connection = async (first?: { index: number; response: ProductResponse }): Promise<void> => {
    active++;
    try {
      let job = first;
      for (;;) {
        if (!job) {
          const index = queue.shift();
          if (index === undefined || failure) return;
          const { start, end } = ranged.span(index);
          try {
            // A sink holding ranges in memory admits a bounded number; the wait ends on a failure too.
            await ranged.admit?.(index, signal);
            const response = await input.hook.openProduct({
              url: input.url,
              offset: start,
              end,
              ifRange: validator,
              signal,
            });
            if (!response.partial) {
              response.body.destroy();
              throw new Error(
                `range ${start}-${end} was answered with the whole product: it changed, or ranges are no longer honoured`,
              );
            }
            job = { index, response };
          } catch (err) {
            if (err instanceof HookRateLimitError && active > 1 && !failure) {
              // Back off: this connection ends, the others go on with its range.
              queue.unshift(index);
              rateLimit = err;
              allowed = Math.max(1, active - 1);
              checkpoint();
              return;
            }
            throw err;
          }
        }
        await ranged.writeRange(job.index, counted(job.response.body), checkpoint, { releaseChunks: true });
        job = undefined;
        if (active > allowed) return;
      }
    } catch (err) {
      fail(err);
    } finally {
      active--;
    }
  };

  const verified = ranged.verify();
  verified.catch(fail);
  const connections: Promise<void>[] = [connection({ index: firstIndex, response: probe })];
  const extra: (() => void)[] = [];
  const open = (n: number) => {
    // Each new connection takes a range from the queue: no more of them than ranges waiting.
    for (let i = 0; i < n && i < queue.length && input.budget.tryTake(); i++) {
      extra.push(() => input.budget.give());
      connections.push(connection());
    }
  };
  open(Math.min(allowed, START_CONNECTIONS) - 1);

  // The ramp: doubles the connections while the total rate grows.
  let lastRate = 0;
  let lastCount = 0;
  let growing = true;
  const ramp = setInterval(() => {
    const rate = received - lastCount;
    lastCount = received;
    if (!growing || rateLimit || failure) return;
    if (lastRate > 0 && rate < lastRate * RAMP_GAIN) growing = false;
    lastRate = rate;
    if (growing && active < allowed) open(Math.min(allowed, active * 2) - active);
  }, RAMP_WINDOW_MS);

  try {
    // Connections end when the queue is empty, when refused, or on a failure; refused ones may
    // leave ranges for the others, which they take before ending.
    while (connections.length > 0) {
      await connections.shift();
      if (connections.length === 0 && queue.length > 0 && !failure) {
        if (rateLimit) fail(rateLimit);
        else connections.push(connection());
      }
    }
    if (failure) throw failure;
    await verified;
    return { verification: await ranged.commit(), size };
  } catch (err) {
    ranged.stop(err);
    ranged.dispose();
    await verified.catch(() => undefined);
    checkpoint();
    throw err;
  } finally {
    clearInterval(ramp);
    for (const give of extra) give();
  }
}

/** A local `.part` as a range target: each range written at its offset, the file read back in order. */
export function localRanges(part: PartFile): RangeTarget {
  return {
    restart: () => part.truncate(),
    open: (size, rangeBytes, done, expect) => new RangedPart(part, size, rangeBytes, done, expect),
  };
}

/**
 * Bytes per range: `largest` (default {@link DEFAULT_RANGE_BYTES}), but small enough that a
 * product of known size gives every connection about {@link RANGES_PER_CONNECTION} ranges (so all
 * of them work until near the end), and never below {@link MIN_RANGE_BYTES} (each range costs one
 * request and its time to first byte) nor below the target's `smallest` (S3's 5 MiB part minimum).
 */
export function rangeSize(
  size: number | undefined,
  connections: number,
  largest = DEFAULT_RANGE_BYTES,
  smallest = 0,
): number {
  if (size === undefined) return Math.max(smallest, largest);
  const even = Math.ceil(size / (connections * RANGES_PER_CONNECTION) / MIN_RANGE_BYTES) * MIN_RANGE_BYTES;
  return Math.max(smallest, Math.min(largest, MIN_RANGE_BYTES), Math.min(largest, even));
}

/** The first index not in `done`. */
function firstMissing(done: Set<number>): number {
  let i = 0;
  while (done.has(i)) i++;
  return i;
}

/** Ranges wholly inside the first `bytes` of the file (written by a single-stream attempt). */
function prefixRanges(bytes: number, rangeBytes: number, size: number): Set<number> {
  const whole = bytes >= size ? Math.ceil(size / rangeBytes) : Math.floor(bytes / rangeBytes);
  return new Set(Array.from({ length: whole }, (_, i) => i));
}
