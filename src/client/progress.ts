/**
 * A harvest's live state as the CLI shows it: the workflow's progress query (per item state,
 * bytes delivered, errors) plus what only the server knows — bytes of downloads still running
 * (the download activity's heartbeats), activities that are retrying and why, and whether any
 * worker is picking up the work. Which item a running download belongs to is read once from the
 * activity's scheduled event in the history (its input names the item) and cached.
 */
import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import type { HarvestProgress, ItemReport } from '../shared/harvest-report';
import { progressQuery } from '../shared/messages';
import { decodePayloads } from './payloads';

/** A download activity that is running (or waiting for its next attempt). */
export interface DownloadInFlight {
  activityId: string;
  identifier?: string;
  /** Bytes in the sink so far, from the last heartbeat. */
  bytes: number;
  /** The product's size as the Hook announced it, when it did. */
  expectedBytes?: number;
  /** The download's recent rate, from its last heartbeat (bytes per second). */
  bytesPerSecond?: number;
  attempt: number;
}

/** An activity whose last attempt failed and that Temporal will try again. */
export interface RetryingActivity {
  activityId: string;
  type: string;
  identifier?: string;
  attempt: number;
  message: string;
}

export interface ItemProgress extends ItemReport {
  /** Bytes of a download under way (not yet in `bytes`). */
  inFlightBytes?: number;
  expectedBytes?: number;
  /** Its recent rate (bytes per second) and, with a known size, the seconds left at that rate. */
  bytesPerSecond?: number;
  etaSeconds?: number;
}

export interface HarvestSnapshot {
  workflowId: string;
  runId: string;
  status: WorkflowExecutionStatusName;
  taskQueue: string;
  historyLength: number;
  startTime: string;
  closeTime?: string;
  /** The workflow's own view; absent when the query could not be answered (see `queryError`). */
  progress?: HarvestProgress;
  queryError?: string;
  items: ItemProgress[];
  downloads: DownloadInFlight[];
  retrying: RetryingActivity[];
  /** Bytes of running downloads that could not be tied to an item. */
  unassignedInFlightBytes: number;
  /** Set when work has waited this long (ms) without any worker picking it up. */
  waitingForWorkerMs?: number;
}

interface ScheduledDownload {
  identifier: string;
  processedSize?: number;
}

/** Failure types that are part of normal operation, not trouble worth showing. */
const ROUTINE_FAILURES = new Set(['OrderNotReady']);
const QUERY_TIMEOUT_MS = 5_000;
const NO_WORKER_AFTER_MS = 5_000;

export class HarvestWatcher {
  private readonly scheduled = new Map<string, ScheduledDownload>();
  private scheduledRunId?: string;

  constructor(
    private readonly client: Client,
    readonly workflowId: string,
  ) {}

  async snapshot(): Promise<HarvestSnapshot> {
    const handle = this.client.workflow.getHandle(this.workflowId);
    const description = await handle.describe();
    // A closed harvest is answered by its result; a query would need a worker to replay it.
    const query =
      description.status.name === 'RUNNING'
        ? await this.client
            .withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(progressQuery))
            .then(
              (progress) => ({ progress, error: undefined }),
              (err: unknown) => ({ progress: undefined, error: queryErrorText(err) }),
            )
        : { progress: undefined, error: `the harvest has ended (${description.status.name.toLowerCase()})` };
    const runId = description.runId;
    if (this.scheduledRunId !== runId) {
      this.scheduled.clear();
      this.scheduledRunId = runId;
    }

    const pending = description.raw.pendingActivities ?? [];
    if (pending.some((a) => a.activityType?.name === 'deliverProduct' && !this.scheduled.has(a.activityId ?? ''))) {
      await this.learnScheduledDownloads();
    }

    const downloads: DownloadInFlight[] = [];
    const retrying: RetryingActivity[] = [];
    for (const activity of pending) {
      const activityId = activity.activityId ?? '';
      const type = activity.activityType?.name ?? 'activity';
      const target = this.scheduled.get(activityId);
      const attempt = activity.attempt ?? 1;
      if (type === 'deliverProduct') {
        const [details] = await decodePayloads(this.client, activity.heartbeatDetails?.payloads).catch(() => [
          undefined,
        ]);
        const bytes =
          typeof (details as { bytes?: unknown })?.bytes === 'number' ? (details as { bytes: number }).bytes : 0;
        const rate = (details as { bytesPerSecond?: unknown } | undefined)?.bytesPerSecond;
        downloads.push({
          activityId,
          identifier: target?.identifier,
          bytes,
          expectedBytes: target?.processedSize,
          bytesPerSecond: typeof rate === 'number' && rate > 0 ? rate : undefined,
          attempt,
        });
      }
      const failure = activity.lastFailure;
      const failureType = failure?.applicationFailureInfo?.type ?? '';
      if (failure?.message && !ROUTINE_FAILURES.has(failureType)) {
        retrying.push({ activityId, type, identifier: target?.identifier, attempt, message: failure.message });
      }
    }

    const progress = query.progress;
    const inFlight = new Map(downloads.filter((d) => d.identifier).map((d) => [d.identifier!, d]));
    const items: ItemProgress[] = (progress?.items ?? []).map((item) => {
      const download = item.state === 'delivering' ? inFlight.get(item.identifier) : undefined;
      if (!download) return { ...item };
      const { bytes, expectedBytes, bytesPerSecond } = download;
      const etaSeconds =
        bytesPerSecond && expectedBytes ? Math.ceil(Math.max(0, expectedBytes - bytes) / bytesPerSecond) : undefined;
      return { ...item, inFlightBytes: bytes, expectedBytes, bytesPerSecond, etaSeconds };
    });
    const unassignedInFlightBytes = downloads.filter((d) => !d.identifier).reduce((sum, d) => sum + d.bytes, 0);

    return {
      workflowId: this.workflowId,
      runId,
      status: description.status.name,
      taskQueue: description.taskQueue,
      historyLength: description.historyLength,
      startTime: description.startTime.toISOString(),
      closeTime: description.closeTime?.toISOString(),
      progress,
      queryError: query.error,
      items,
      downloads,
      retrying,
      unassignedInFlightBytes,
      waitingForWorkerMs: waitingForWorker(description.raw),
    };
  }

  /** Reads which item each scheduled download activity is for, from the history's scheduled events. */
  private async learnScheduledDownloads(): Promise<void> {
    const handle = this.client.workflow.getHandle(this.workflowId, this.scheduledRunId);
    const history = await handle.fetchHistory();
    for (const event of history.events ?? []) {
      const attributes = event.activityTaskScheduledEventAttributes;
      if (attributes?.activityType?.name !== 'deliverProduct' || !attributes.activityId) continue;
      if (this.scheduled.has(attributes.activityId)) continue;
      const [input] = await decodePayloads(this.client, attributes.input?.payloads).catch(() => [undefined]);
      const item = (input as { item?: { identifier?: unknown; processedSize?: unknown } } | undefined)?.item;
      if (typeof item?.identifier === 'string') {
        this.scheduled.set(attributes.activityId, {
          identifier: item.identifier,
          processedSize: typeof item.processedSize === 'number' ? item.processedSize : undefined,
        });
      }
    }
  }
}

type RawDescription = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['describe']>>['raw'];

/** How long a workflow task or activity has been waiting without any worker starting it. */
function waitingForWorker(raw: RawDescription): number | undefined {
  const now = Date.now();
  const waits: number[] = [];
  const task = raw.pendingWorkflowTask;
  if (task?.scheduledTime && !task.startedTime) waits.push(now - timestampMs(task.scheduledTime));
  for (const activity of raw.pendingActivities ?? []) {
    // An activity never started (no worker polls its queue); retries waiting for their backoff have lastStartedTime.
    if (activity.scheduledTime && !activity.lastStartedTime && (activity.attempt ?? 1) <= 1) {
      waits.push(now - timestampMs(activity.scheduledTime));
    }
  }
  const longest = Math.max(0, ...waits);
  return longest >= NO_WORKER_AFTER_MS ? longest : undefined;
}

function timestampMs(ts: { seconds?: unknown; nanos?: number | null }): number {
  return Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

function queryErrorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /deadline/i.test(message) ? 'no answer from a worker yet' : message;
}
