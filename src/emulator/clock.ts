/**
 * Time source of the emulator. Every timestamp, token expiry, link expiry and lifecycle delay reads
 * this clock, so unit tests can drive the order lifecycle with {@link createManualClock} instead of
 * waiting. Network-level delays (the latency fault) always use real time.
 */

/** Cancels a timer set with {@link Clock.setTimeout}; calling it twice is harmless. */
export type CancelTimer = () => void;

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once, `ms` milliseconds from now (on this clock). */
  setTimeout(fn: () => void, ms: number): CancelTimer;
}

/** The real clock. Its timers are unref'd: pending item transitions never keep a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return () => clearTimeout(handle);
  },
};

/** A clock that only moves when told to. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due, in time order. */
  advance(ms: number): void;
  /** Number of timers not yet fired or cancelled. */
  pendingTimers(): number;
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Creates a {@link ManualClock} starting at `startMs` (default 2024-05-14T12:00:00Z). */
export function createManualClock(startMs = Date.UTC(2024, 4, 14, 12, 0, 0)): ManualClock {
  let now = startMs;
  let seq = 0;
  const timers: ManualTimer[] = [];

  const nextDue = (limit: number): ManualTimer | undefined => {
    let best: ManualTimer | undefined;
    for (const t of timers) {
      if (t.cancelled || t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  };

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer: ManualTimer = { at: now + Math.max(0, ms), seq: seq++, fn, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    advance(ms) {
      const target = now + ms;
      for (let t = nextDue(target); t; t = nextDue(target)) {
        t.cancelled = true;
        now = Math.max(now, t.at);
        t.fn();
      }
      now = target;
      for (let i = timers.length - 1; i >= 0; i--) if (timers[i]?.cancelled) timers.splice(i, 1);
    },
    pendingTimers: () => timers.filter((t) => !t.cancelled).length,
  };
}
