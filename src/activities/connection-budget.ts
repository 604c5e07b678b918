/**
 * The worker's budget of extra product connections: the first connection of each delivery is
 * bounded by the harvests' parallel downloads; every connection beyond it (parallel ranges) is
 * taken from here, so all deliveries of one worker together stay under the account's limit
 * (`DEDL_MAX_EXTRA_CONNECTIONS`). Non-blocking: a delivery that finds the budget spent keeps the
 * connections it has.
 */
export class ConnectionBudget {
  #free: number;

  constructor(readonly size: number) {
    this.#free = size;
  }

  /** Takes one connection if one is free. */
  tryTake(): boolean {
    if (this.#free <= 0) return false;
    this.#free--;
    return true;
  }

  give(): void {
    this.#free = Math.min(this.size, this.#free + 1);
  }

  get free(): number {
    return this.#free;
  }
}
