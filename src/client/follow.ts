/**
 * Follows a running harvest until it closes: refreshes its progress (query + describe) on an
 * interval while waiting for the result, and hands each snapshot to a renderer.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type HarvestEnd, awaitHarvestEnd } from './harvest-end';
import { type HarvestSnapshot, HarvestWatcher } from './progress';
import type { ProgressRenderer } from './render';

export interface FollowOptions {
  renderer: ProgressRenderer;
  /** Time between refreshes. */
  intervalMs?: number;
  /** Stops following (the harvest goes on); the result is then `{ kind: 'detached' }`. */
  signal?: AbortSignal;
  /** Called with every snapshot, e.g. for a demo's own time budget. */
  onSnapshot?: (snapshot: HarvestSnapshot) => void;
}

export type FollowResult = HarvestEnd | { kind: 'detached' };

export async function followHarvest(client: Client, workflowId: string, options: FollowOptions): Promise<FollowResult> {
  const handle = client.workflow.getHandle(workflowId);
  const watcher = new HarvestWatcher(client, workflowId);
  let settled = false;
  // The long poll for the result is aborted when we stop following, so no call outlives the
  // connection (a call still retrying after close() fails with "Channel has been shut down").
  const stopWaiting = new AbortController();
  const ending = client
    .withAbortSignal(stopWaiting.signal, () => awaitHarvestEnd(client, handle))
    .then(
      (end) => ({ ok: true as const, end }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  void ending.then(() => (settled = true));
  const interval = options.intervalMs ?? 500;
  let last: HarvestSnapshot | undefined;

  while (!settled && !options.signal?.aborted) {
    try {
      last = await watcher.snapshot();
      options.renderer.update(last);
      options.onSnapshot?.(last);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw err;
      // A refresh that fails (server busy, history being read) is skipped; the result still arrives.
    }
    if (settled) break;
    await Promise.race([ending, delay(interval, undefined, { signal: options.signal }).catch(() => undefined)]);
  }
  if (!settled && options.signal?.aborted) {
    stopWaiting.abort();
    options.renderer.finish();
    return { kind: 'detached' };
  }

  const outcome = await ending;
  if (!outcome.ok) throw outcome.error;
  const end = outcome.end;
  const finalProgress = end.kind === 'report' ? { ...end.report, phase: 'done' as const } : undefined;
  if (last && finalProgress) {
    options.renderer.update({
      ...last,
      status: 'COMPLETED',
      progress: finalProgress,
      items: finalProgress.items,
      downloads: [],
      retrying: [],
      unassignedInFlightBytes: 0,
      waitingForWorkerMs: undefined,
    });
  }
  options.renderer.finish();
  return end;
}
