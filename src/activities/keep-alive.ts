/**
 * Heartbeats while an activity runs. Temporal notices a worker that died only through a missed
 * heartbeat: an attempt that does not heartbeat holds its task for its whole start-to-close before
 * the retry (minutes, for a Hook call or a manifest write), one that does is retried within its
 * heartbeat timeout. A cancellation, too, reaches an activity only through its heartbeats.
 */
import { Context } from '@temporalio/activity';

/** Heartbeat period at most (the SDK throttles heartbeats itself). */
const KEEP_ALIVE_HEARTBEAT_MS = 10_000;

/**
 * Heartbeats with `beat` until the returned function is called: every {@link KEEP_ALIVE_HEARTBEAT_MS},
 * or a third of the attempt's heartbeat timeout when that is shorter.
 */
export function keepAlive(ctx: Context, beat: () => void): () => void {
  const timeoutMs = ctx.info.heartbeatTimeoutMs;
  const timer = setInterval(
    beat,
    timeoutMs ? Math.min(KEEP_ALIVE_HEARTBEAT_MS, timeoutMs / 3) : KEEP_ALIVE_HEARTBEAT_MS,
  );
  return () => clearInterval(timer);
}

/**
 * The activities, each heartbeating (without details) while it runs — but those named in `own`,
 * which heartbeat their own checkpoints (a detail-less beat would replace the checkpoint).
 */
export function heartbeatingWhileRunning<T extends object>(activities: T, own: readonly (keyof T & string)[]): T {
  const wrapped: Record<string, unknown> = { ...(activities as Record<string, unknown>) };
  for (const [name, fn] of Object.entries(wrapped)) {
    if (typeof fn !== 'function' || (own as readonly string[]).includes(name)) continue;
    wrapped[name] = async (...args: unknown[]) => {
      const ctx = Context.current();
      const stop = keepAlive(ctx, () => ctx.heartbeat());
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } finally {
        stop();
      }
    };
  }
  return wrapped as T;
}
