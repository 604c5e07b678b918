/**
 * The optional state file: orders, items, id counters, temporary objects, the TempURL key and the
 * realms' signing keys, as JSON, so a restarted emulator keeps its orders, links and tokens valid.
 * Writes are debounced and atomic (temp file + rename). The file holds the orders' secret options
 * (they are needed to finish PRIVATE writes after a restart), so it is created with mode 0600.
 */
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { type OrderBookSnapshot } from './orders';
import { type TempObject } from './temp-store';

export interface StateData {
  version: 1;
  savedAt: string;
  book: OrderBookSnapshot;
  temp: TempObject[];
  tempUrlKey: string;
  keys: { desp: string; dedl: string };
}

const stateSchema = z.object({
  version: z.literal(1),
  savedAt: z.string(),
  book: z.object({
    nextOrderId: z.number().int(),
    nextItemId: z.number().int(),
    orders: z.array(z.looseObject({ id: z.number().int(), owner: z.string(), itemIds: z.array(z.number().int()) })),
    items: z.array(z.looseObject({ id: z.number().int(), orderId: z.number().int(), status: z.string() })),
  }),
  temp: z.array(z.looseObject({ name: z.string() })),
  tempUrlKey: z.string().min(1),
  keys: z.object({ desp: z.string(), dedl: z.string() }),
});

/** Reads the state file; undefined when it does not exist yet; throws when it cannot be used. */
export function loadState(path: string): StateData | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`Emulator state file ${path} is not valid JSON`);
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`Emulator state file ${path} is not a state file: ${parsed.error.issues[0]?.message ?? ''}`);
  return json as StateData;
}

export class StateWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => StateData,
    private readonly delayMs = 100,
  ) {}

  /** Notes a change; the file is written within `delayMs`. */
  changed(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => undefined);
    }, this.delayMs);
    this.timer.unref();
  }

  /** Writes pending changes now (waits for a write in flight first). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.writing) await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    const tmp = `${this.path}.${process.pid}.tmp`;
    this.writing = writeFile(tmp, JSON.stringify(this.snapshot()), { mode: 0o600 })
      .then(() => rename(tmp, this.path))
      .finally(() => {
        this.writing = undefined;
      });
    await this.writing;
  }
}
