/**
 * Link shaping for product downloads (`/swift/…`): a token bucket per connection and one for the
 * whole server (bandwidth caps), an added time to first byte, and a cap on concurrent downloads
 * per client answered 429/503 with `Retry-After`. Off by default; set as the `shaping` field of
 * the fault settings, so it can change at run time like the other faults. Only the per-connection
 * rate (20 Mbit/s, documented by DEDL's HDA) comes from the real service; the rest are guesses
 * listed in README.md.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  bit: 1 / 8,
  kbit: 1000 / 8,
  mbit: 1e6 / 8,
  gbit: 1e9 / 8,
  kb: 1000,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/**
 * A rate in bytes per second from a number (bytes/s) or a text such as `20Mbit`, `2.5MB`, `512KiB`
 * (an optional `/s` is accepted). Undefined when the text is not a rate.
 */
export function parseRate(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*(?:\/\s*s)?\s*$/i.exec(value);
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  const rate = Number(m[1]) * unit;
  return rate > 0 ? rate : undefined;
}

const rateSchema = z
  .union([z.number(), z.string()])
  .refine((v) => parseRate(v) !== undefined, {
    message: 'must be a positive rate: bytes per second, or a text such as "20Mbit", "2.5MB", "512KiB"',
  })
  .nullable();

export const shapingSchema = z
  .object({
    /** Bandwidth of each connection (token bucket per socket), e.g. `20Mbit`; null = unlimited. Default null. */
    perConnectionRate: rateSchema
      .default(null)
      .describe(
        'Bandwidth of each connection (token bucket per socket), bytes/s or e.g. "20Mbit"; null = unlimited. Default null.',
      ),
    /** Bandwidth of all product downloads together; null = unlimited. Default null. */
    totalRate: rateSchema
      .default(null)
      .describe(
        'Bandwidth of all product downloads together, bytes/s or e.g. "100Mbit"; null = unlimited. Default null.',
      ),
    /** Time added before a product answer's first byte (headers included), in ms. Default 0. */
    firstByteMs: z
      .number()
      .min(0)
      .default(0)
      .describe("Time added before a product answer's first byte (headers included), in ms. Default 0."),
    /** Product downloads one client (peer address) may have open at once; more are refused. Null = no cap. Default null. */
    maxConnectionsPerClient: z
      .number()
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Product downloads one client (peer address) may have open at once; more are refused. Null = no cap. Default null.',
      ),
    /** Status refusing a download over the cap. Default 429. */
    overLimitStatus: z
      .union([z.literal(429), z.literal(503)])
      .default(429)
      .describe('Status refusing a download over the cap. Default 429.'),
    /** `Retry-After` of a refusal over the cap, in seconds. Default 1. */
    overLimitRetryAfterSec: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('`Retry-After` of a refusal over the cap, in seconds. Default 1.'),
  })
  .strict();

export type Shaping = z.infer<typeof shapingSchema>;

/** The burst a bucket allows: 50 ms of its rate, at least 16 KiB (one socket write). */
export function bucketBurst(rate: number): number {
  return Math.max(16 * 1024, Math.floor(rate / 20));
}

/** A token bucket: `take(n)` resolves once n bytes may pass at `rate` bytes/s. Callers take at most the burst at once. */
export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly burst: number;
  /** Serialises takers, so two connections sharing a bucket queue fairly instead of racing. */
  #queue: Promise<void> = Promise.resolve();

  constructor(
    readonly rate: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.burst = bucketBurst(rate);
    this.#tokens = this.burst;
    this.#last = this.now();
  }

  take(bytes: number): Promise<void> {
    const turn = this.#queue.then(() => this.#take(Math.min(bytes, this.burst)));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #take(bytes: number): Promise<void> {
    for (;;) {
      const now = this.now();
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate);
      this.#last = now;
      if (this.#tokens >= bytes) {
        this.#tokens -= bytes;
        return;
      }
      await sleep(Math.max(1, ((bytes - this.#tokens) / this.rate) * 1000));
    }
  }
}

/** The shaper of one emulator: buckets per socket and in total, and the open downloads per client. */
export class LinkShaper {
  readonly #sockets = new WeakMap<Socket, TokenBucket>();
  #total: TokenBucket | undefined;
  readonly #open = new Map<string, number>();

  constructor(private readonly settings: () => Shaping) {}

  /**
   * Admits one download of `req`: a `release` to call when its response closes, or, over the
   * client's cap, the refusal to answer.
   */
  admit(req: IncomingMessage): { release: () => void } | { status: 429 | 503; retryAfterSec: number } {
    const s = this.settings();
    const client = req.socket.remoteAddress ?? 'unknown';
    const open = this.#open.get(client) ?? 0;
    if (s.maxConnectionsPerClient !== null && open >= s.maxConnectionsPerClient) {
      return { status: s.overLimitStatus, retryAfterSec: s.overLimitRetryAfterSec };
    }
    this.#open.set(client, open + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#open.get(client) ?? 1) - 1;
        if (left > 0) this.#open.set(client, left);
        else this.#open.delete(client);
      },
    };
  }

  /** Waits out the added time to first byte. */
  async firstByte(): Promise<void> {
    const ms = this.settings().firstByteMs;
    if (ms > 0) await sleep(ms);
  }

  /** A pass-through that paces a body to the socket's and the total bucket; undefined when no rate is set. */
  throttle(socket: Socket | null): Transform | undefined {
    const s = this.settings();
    const perConnection = s.perConnectionRate === null ? undefined : parseRate(s.perConnectionRate);
    const total = s.totalRate === null ? undefined : parseRate(s.totalRate);
    const buckets: TokenBucket[] = [];
    if (perConnection !== undefined && socket) {
      let bucket = this.#sockets.get(socket);
      if (bucket?.rate !== perConnection) {
        bucket = new TokenBucket(perConnection);
        this.#sockets.set(socket, bucket);
      }
      buckets.push(bucket);
    }
    if (total !== undefined) {
      if (this.#total?.rate !== total) this.#total = new TokenBucket(total);
      buckets.push(this.#total);
    }
    if (buckets.length === 0) return undefined;
    const step = Math.min(...buckets.map((b) => b.burst));
    return new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        void (async () => {
          for (let at = 0; at < chunk.length && !this.destroyed; at += step) {
            const piece = chunk.subarray(at, at + step);
            for (const bucket of buckets) await bucket.take(piece.length);
            this.push(piece);
          }
        })().then(() => callback(), callback);
      },
    });
  }
}
