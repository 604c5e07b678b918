/**
 * Follows a running harvest until it closes: refreshes its progress (query + describe) on an
 * interval while waiting for the result, and hands each snapshot to a renderer.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { type Client, type WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
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
  const ending = awaitEndUnless(client, handle, stopWaiting.signal).then(
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

/**
 * How the harvest ended, waiting for it until `stop` aborts. The SDK adds an abort listener to the
 * call's signal for every gRPC call and never removes it, and a result wait is one long poll per
 * ~20 s: under one signal, following a harvest in a long retry gathered a listener per poll
 * (`MaxListenersExceededWarning … abort listeners`). So each call here gets a signal of its own,
 * tied to `stop` only while the call runs.
 */
async function awaitEndUnless(client: Client, handle: WorkflowHandle, stop: AbortSignal): Promise<HarvestEnd> {
  await waitForClose(client, handle.workflowId, stop);
  return withOwnSignal(client, stop, () => awaitHarvestEnd(client, handle));
}

/**
 * Long-polls the history for the close event, one call (and one signal) per poll. A failed poll
 * ends the wait early: awaitHarvestEnd then reports the error as the SDK words it (unknown workflow,
 * connection lost) or, after a passing glitch, waits for the result itself.
 */
async function waitForClose(client: Client, workflowId: string, stop: AbortSignal): Promise<void> {
  const request: temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryRequest = {
    namespace: client.options.namespace,
    execution: { workflowId },
    waitNewEvent: true,
    skipArchival: true,
    historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
  };
  while (!stop.aborted) {
    try {
      const page = await withOwnSignal(client, stop, () => client.workflowService.getWorkflowExecutionHistory(request));
      if (page.history?.events?.length) return;
      request.nextPageToken = page.nextPageToken;
    } catch {
      return;
    }
  }
}

/**
 * Runs `call` under a fresh AbortSignal that `stop` aborts; the link is removed when the call ends.
 * Nothing starts once `stop` has aborted (a signal aborted before the call would never cancel it).
 */
async function withOwnSignal<T>(client: Client, stop: AbortSignal, call: () => Promise<T>): Promise<T> {
  if (stop.aborted) throw new Error('no longer following the harvest');
  const own = new AbortController();
  const abort = () => own.abort();
  stop.addEventListener('abort', abort, { once: true });
  try {
    return await client.withAbortSignal(own.signal, call);
  } finally {
    stop.removeEventListener('abort', abort);
  }
}
