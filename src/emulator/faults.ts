/**
 * Fault injection: the schema of the fault settings (set at start, replaced or patched at run time
 * through `PUT`/`PATCH /_emulator/faults`) and the seeded dice that decide, per request or item,
 * whether a fault happens.
 */
import { z } from 'zod';
import { createRandom } from './prng';
import { shapingSchema } from './shaping';

const rate = z.number().min(0).max(1);

/** Request groups a fault can apply to. The admin API is never one of them. */
export const faultScopeSchema = z.enum(['odata', 'stac', 'storage', 'auth']);
export type FaultScope = z.infer<typeof faultScopeSchema>;

export const faultsSchema = z
  .object({
    /** Fraction of requests (in `scopes`) answered with `errorStatus` before being handled. Default 0. */
    errorRate: rate
      .default(0)
      .describe('Fraction of requests (in `scopes`) answered with `errorStatus` before being handled. Default 0.'),
    /** Status used by `errorRate`. Default 503. */
    errorStatus: z
      .union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)])
      .default(503)
      .describe('Status used by `errorRate`. Default 503.'),
    /** Fraction of requests (in `scopes`) answered 429 with a `Retry-After` header. Default 0. */
    rateLimitRate: rate
      .default(0)
      .describe('Fraction of requests (in `scopes`) answered 429 with a `Retry-After` header. Default 0.'),
    /** `Retry-After` of injected 429s, in seconds. Default 1. */
    retryAfterSec: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('`Retry-After` of injected 429s, in seconds. Default 1.'),
    /** Latency added before each request (in `scopes`) is handled, in ms (real time). Default 0. */
    latencyMs: z
      .number()
      .min(0)
      .default(0)
      .describe('Latency added before each request (in `scopes`) is handled, in ms (real time). Default 0.'),
    /** Extra random latency, uniform in [0, latencyJitterMs). Default 0. */
    latencyJitterMs: z
      .number()
      .min(0)
      .default(0)
      .describe('Extra random latency, uniform in [0, latencyJitterMs). Default 0.'),
    /** Fraction of product downloads (`/swift/…`) whose connection is reset part-way. Default 0. */
    resetRate: rate
      .default(0)
      .describe('Fraction of product downloads (`/swift/…`) whose connection is reset part-way. Default 0.'),
    /** Bytes of the body sent before a reset; null = half of the requested body. Default null. */
    resetAfterBytes: z
      .number()
      .int()
      .min(0)
      .nullable()
      .default(null)
      .describe('Bytes of the body sent before a reset; null = half of the requested body. Default null.'),
    /** Fraction of product downloads whose body ends early (connection closed cleanly). Default 0. */
    truncateRate: rate
      .default(0)
      .describe('Fraction of product downloads whose body ends early (connection closed cleanly). Default 0.'),
    /** Bytes of the body sent before truncation; null = half of the requested body. Default null. */
    truncateAfterBytes: z
      .number()
      .int()
      .min(0)
      .nullable()
      .default(null)
      .describe('Bytes of the body sent before truncation; null = half of the requested body. Default null.'),
    /** Fraction of product downloads with one byte changed mid-body (a damaged product: its zip CRC fails). Default 0. */
    corruptRate: rate
      .default(0)
      .describe('Fraction of product downloads with one byte changed mid-body (a damaged product). Default 0.'),
    /** Fraction of order items that end `failed` with an emulated processing error. Default 0. */
    itemFailureRate: rate
      .default(0)
      .describe('Fraction of order items that end `failed` with an emulated processing error. Default 0.'),
    /** Fraction of order items that stay `in_progress` forever (holding a quota slot until cancelled). Default 0. */
    itemStuckRate: rate
      .default(0)
      .describe(
        'Fraction of order items that stay `in_progress` forever (holding a quota slot until cancelled). Default 0.',
      ),
    /**
     * When set, every TEMPORARY link is refused (401, as Swift answers for an expired TempURL) once
     * this many ms have passed since the item completed, whatever its `temp_url_expires` says. Default null.
     */
    linksExpireAfterMs: z
      .number()
      .int()
      .min(0)
      .nullable()
      .default(null)
      .describe(
        'When set, every TEMPORARY link is refused (401, as Swift answers for an expired TempURL) once this many ms have passed since the item completed, whatever its `temp_url_expires` says. Default null.',
      ),
    /** Lifetime of tokens issued from now on, in seconds; null = the `tokenLifetimeSec` option. Default null. */
    tokenLifetimeSec: z
      .number()
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'Lifetime of tokens issued from now on, in seconds; null = the `tokenLifetimeSec` option. Default null.',
      ),
    /**
     * Fraction of order creations (`…/OData.CSC.Order`) where the order IS created but the answer is
     * a 502 — the "lost response" case that tests exactly-once submission. Default 0.
     */
    lostOrderResponseRate: rate
      .default(0)
      .describe(
        'Fraction of order creations (`…/OData.CSC.Order`) where the order IS created but the answer is a 502 — the "lost response" case that tests exactly-once submission. Default 0.',
      ),
    /** Link shaping of product downloads (bandwidth caps, time to first byte, connection cap); see shaping.ts. Default: off. */
    shaping: shapingSchema
      .default(shapingSchema.parse({}))
      .describe(
        'Link shaping of product downloads (bandwidth caps, time to first byte, connection cap); see shaping.ts. Default: off.',
      ),
    /** Request groups the request-level faults apply to. Default `['odata', 'stac', 'storage']`. */
    scopes: z
      .array(faultScopeSchema)
      .default(['odata', 'stac', 'storage'])
      .describe("Request groups the request-level faults apply to. Default `['odata', 'stac', 'storage']`."),
  })
  .strict();

export type Faults = z.infer<typeof faultsSchema>;
export type FaultsInput = z.input<typeof faultsSchema>;

export type DiceName =
  | 'error'
  | 'rateLimit'
  | 'latency'
  | 'reset'
  | 'truncate'
  | 'corrupt'
  | 'itemFailure'
  | 'itemStuck'
  | 'lostOrderResponse';

/** Current fault settings plus one seeded random stream per fault kind. */
export class FaultInjector {
  private current: Faults;
  private readonly dice = new Map<DiceName, () => number>();

  constructor(
    initial: Faults,
    private readonly seed: number,
  ) {
    this.current = initial;
  }

  get settings(): Faults {
    return this.current;
  }

  replace(next: Faults): void {
    this.current = next;
  }

  appliesTo(scope: FaultScope | undefined): boolean {
    return scope !== undefined && this.current.scopes.includes(scope);
  }

  /** True with probability `probability`, drawn from the stream of `name`. */
  roll(name: DiceName, probability: number): boolean {
    if (probability <= 0) return false;
    return this.random(name) < probability;
  }

  random(name: DiceName): number {
    let rng = this.dice.get(name);
    if (!rng) {
      rng = createRandom(this.seed, name);
      this.dice.set(name, rng);
    }
    return rng();
  }
}
