/**
 * Deterministic pseudo-random numbers for fault decisions. Each named stream is seeded from the
 * emulator seed and the stream name, so changing one fault's rate does not shift another's draws.
 */
import { createHash } from 'node:crypto';

/** Returns a generator of floats in [0, 1) (mulberry32) for `seed` and `stream`. */
export function createRandom(seed: number, stream: string): () => number {
  let state = createHash('sha256').update(`${seed}:${stream}`).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
