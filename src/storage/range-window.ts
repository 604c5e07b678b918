/**
 * The bound on ranges held in memory while an in-order verifier catches up (S3 ranged delivery:
 * a range's bytes stay in memory from its first byte until the verifier has consumed them and its
 * part is stored). At most `limit` ranges are held; the range the verifier needs next is always
 * admitted, whatever the count, so a slow first range can neither deadlock the delivery nor make
 * the other connections buffer without bound: memory ≤ (limit + 1) × range size.
 */
export class RangeWindow {
  readonly #held = new Set<number>();
  readonly #waiters: { index: number; resolve: () => void }[] = [];
  /** The first range the verifier has not consumed yet. */
  #next = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }

  /** Ranges held now. */
  get held(): number {
    return this.#held.size;
  }

  /** Resolves once range `index` may be held (then it counts until {@link release}); rejects when `signal` aborts. */
  admit(index: number, signal?: AbortSignal): Promise<void> {
    if (this.#fits(index)) {
      this.#held.add(index);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        index,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#held.add(index);
          resolve();
        },
      };
      const onAbort = () => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(signal!.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Range `index` no longer takes memory. */
  release(index: number): void {
    if (this.#held.delete(index)) this.#wakeUp();
  }

  /** The verifier has consumed every range before `next`. */
  advance(next: number): void {
    this.#next = Math.max(this.#next, next);
    this.#wakeUp();
  }

  #fits(index: number): boolean {
    return this.#held.has(index) || this.#held.size < this.limit || index === this.#next;
  }

  #wakeUp(): void {
    // The range the verifier needs first, then the others in byte order.
    this.#waiters.sort((a, b) => (a.index === this.#next ? -1 : b.index === this.#next ? 1 : a.index - b.index));
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0]!.index)) this.#waiters.shift()!.resolve();
  }
}
