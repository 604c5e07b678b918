/**
 * A first-come, first-served counting semaphore for workflow code (deterministic: plain promises,
 * no timers). `release` hands the slot straight to the next waiter, so no two waiters can take
 * the same slot — which a shared `condition(() => running < max)` does not guarantee when several
 * waiters are woken in the same activation.
 */
export class Semaphore {
  private readonly waiters: (() => void)[] = [];

  constructor(private available: number) {}

  async acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.available++;
  }

  /** Runs `task` while holding a slot. */
  async with<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }
}
