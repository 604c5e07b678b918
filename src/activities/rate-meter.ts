/**
 * The rate a download moves at, for people watching it: bytes per second over the last
 * {@link RATE_WINDOW_MS}, carried in the download's heartbeat (`bytesPerSecond`) so `run`/`watch`
 * can show a rate and a time left beside the bytes.
 */

/** How far back the rate looks: long enough to smooth bursts, short enough to follow a change. */
export const RATE_WINDOW_MS = 10_000;

export class RateMeter {
  #samples: { at: number; bytes: number }[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Notes that `bytes` (a running total) have landed by now. */
  record(bytes: number): void {
    const at = this.now();
    this.#samples.push({ at, bytes });
    // Keep one sample older than the window, so the rate always spans it once it can.
    while (this.#samples.length > 2 && this.#samples[1]!.at <= at - RATE_WINDOW_MS) this.#samples.shift();
  }

  /** Bytes per second over the window, rounded; undefined before two samples at least 1 s apart. */
  get bytesPerSecond(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.at - first.at < 1000) return undefined;
    return Math.max(0, Math.round(((last.bytes - first.bytes) * 1000) / (last.at - first.at)));
  }
}
