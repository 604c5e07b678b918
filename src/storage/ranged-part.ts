/**
 * A `.part` file filled by several ranged bodies at once: the product is cut into fixed ranges,
 * each body is written at its own offset (through its own {@link BlockWriter}), and one verifier
 * reads the file back in byte order as the contiguous landed prefix grows, so sha256, sizes and the
 * zip walk are exactly the checks of a single stream (over the bytes really in the file). Memory
 * stays bounded: two blocks per range in flight and one read buffer, whatever the product size.
 *
 * The range map (which ranges have landed whole) is what a heartbeat carries; a resumed attempt
 * passes it back and only the other ranges are fetched again. The caller owns fetching, retries
 * and the decision to keep or discard the file on failure.
 */
import { SizeMismatchError } from './errors';
import { type ProductExpectations, ProductVerifier, type VerificationRecord } from './integrity';
import { BlockWriter, type PartFile } from './local-sink';
import { RangeLayout, type RangeSink } from './range-sink';

/** Bytes read back at a time by the verifier. */
const VERIFY_CHUNK = 1024 * 1024;

export { type RangeMap, formatRanges, parseRanges } from './range-sink';

export class RangedPart extends RangeLayout implements RangeSink {
  readonly #part: PartFile;
  readonly #verifier: ProductVerifier;
  #verified = 0;
  #verifying: Promise<VerificationRecord> | undefined;
  #wake: (() => void) | undefined;
  #stopped: unknown;
  #sized: Promise<void> | undefined;

  constructor(part: PartFile, size: number, rangeBytes: number, done: Set<number>, expect: ProductExpectations) {
    super(size, rangeBytes, done);
    this.#part = part;
    this.#verifier = new ProductVerifier(expect);
  }

  /**
   * Writes `body`, which must be exactly range `index`, at its offset. Resolves once every byte is
   * in the file (the range then counts as done); a body longer or shorter than the range rejects.
   * `onLanded` is told after each block lands. `releaseChunks`: the body's chunks are this call's
   * alone (a network body) and are freed once in the file (see local-sink.ts `releaseChunks`).
   */
  async writeRange(
    index: number,
    body: AsyncIterable<Uint8Array>,
    onLanded?: () => void,
    options: { releaseChunks?: boolean } = {},
  ): Promise<void> {
    const { start, end } = this.span(index);
    const length = end - start + 1;
    // Before any range lands the file takes the product's whole length (a sparse extension): a file
    // a ranged attempt wrote to is then never shorter than the product, which is how a later
    // single-stream attempt without a ranged checkpoint knows not to resume from its length
    // (the holes between ranges would be taken for bytes; see delivery-activities.ts).
    await (this.#sized ??= this.#part.fileHandle.truncate(this.size));
    const writer = new BlockWriter(
      this.#part.fileHandle,
      start,
      (position) => {
        this.landed.set(index, position - start);
        this.#wake?.();
        onLanded?.();
      },
      { releaseChunks: options.releaseChunks },
    );
    let received = 0;
    try {
      for await (const chunk of body) {
        if (this.#stopped) throw this.#stopped;
        received += chunk.byteLength;
        if (received > length) throw new SizeMismatchError('Content-Length', length, received, true);
        await writer.append(chunk);
      }
      if (received !== length) throw new SizeMismatchError('Content-Length', length, received);
      await writer.flush();
    } catch (err) {
      // What landed before the failure stays written; the range is refetched whole.
      await writer.settle();
      this.landed.delete(index);
      throw err;
    }
    this.landed.delete(index);
    this.done.add(index);
    this.#wake?.();
    onLanded?.();
  }

  /**
   * Starts (once) the verifier, which reads the file in byte order as far as it has landed and
   * waits for more; resolves with the record once the whole product passed, rejects at the first
   * failed check (the caller then stops every range and discards the file).
   */
  verify(): Promise<VerificationRecord> {
    this.#verifying ??= this.#verifyLoop();
    return this.#verifying;
  }

  /** Stops the verifier and the range writers (a failed range, cancellation). */
  stop(reason: unknown): void {
    this.#stopped ??= reason;
    this.#wake?.();
  }

  /** Closes the verifier's inflater when the file is not committed. */
  dispose(): void {
    this.#verifier.dispose();
  }

  /** Fsyncs, renames and releases the `.part` once {@link verify} has resolved. */
  async commit(): Promise<VerificationRecord> {
    const verification = await this.verify();
    await this.#part.commit();
    return verification;
  }

  /** End of the contiguous prefix whose bytes are all in the file. */
  #prefix(): number {
    let i = Math.floor(this.#verified / this.rangeBytes);
    while (i < this.count && this.done.has(i)) i++;
    if (i >= this.count) return this.size;
    return this.span(i).start + (this.landed.get(i) ?? 0);
  }

  async #verifyLoop(): Promise<VerificationRecord> {
    const handle = this.#part.fileHandle;
    const buffer = Buffer.allocUnsafe(VERIFY_CHUNK);
    while (this.#verified < this.size) {
      if (this.#stopped) throw this.#stopped;
      const prefix = this.#prefix();
      if (prefix <= this.#verified) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      const want = Math.min(VERIFY_CHUNK, prefix - this.#verified);
      const { bytesRead } = await handle.read(buffer, 0, want, this.#verified);
      if (bytesRead === 0) throw new Error(`${this.#part.partPath} is shorter than the ranges written to it`);
      await this.#verifier.write(buffer.subarray(0, bytesRead));
      this.#verified += bytesRead;
    }
    return this.#verifier.finish();
  }
}
