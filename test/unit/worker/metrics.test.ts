/**
 * The worker's metrics without a server: what the activity interceptor counts for each activity
 * result and failure, and what the Hook observer records, on a meter that remembers every value.
 */
import type { Context as ActivityContext } from '@temporalio/activity';
import {
  ApplicationFailure,
  ApplicationFailureCategory,
  CancelledFailure,
  type MetricMeter,
  type MetricTags,
} from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor } from '@temporalio/worker';
import type {
  DeliveryRecord,
  OrderItemView,
  OrderSnapshot,
  PollOrderInput,
  PrivateItemResult,
} from '../../../src/activities/contract';
import { METRIC, createHarvestMetrics } from '../../../src/worker/metrics';
import { activityMetricsInterceptor } from '../../../src/worker/metrics-interceptor';

interface Recorded {
  name: string;
  value: number;
  tags: MetricTags;
}

/** A MetricMeter that keeps every value it is given. */
function recordingMeter(): { meter: MetricMeter; values: Recorded[] } {
  const values: Recorded[] = [];
  const metric = <K extends 'counter' | 'histogram' | 'gauge'>(kind: K, name: string) => {
    const push = (value: number, tags: MetricTags = {}) => values.push({ name, value, tags });
    return {
      name,
      kind,
      valueType: 'int' as const,
      add: push,
      record: push,
      set: push,
      withTags: () => {
        throw new Error('not used');
      },
    };
  };
  const meter = {
    createCounter: (name: string) => metric('counter', name),
    createHistogram: (name: string) => metric('histogram', name),
    createGauge: (name: string) => metric('gauge', name),
    withTags: () => meter,
  } as unknown as MetricMeter;
  return { meter, values };
}

const sum = (values: Recorded[], name: string, tags: MetricTags = {}) =>
  values
    .filter((v) => v.name === name && Object.entries(tags).every(([k, t]) => v.tags[k] === t))
    .reduce((total, v) => total + v.value, 0);

interface Attempt {
  activityType: string;
  attempt?: number;
  maximumAttempts?: number;
  nonRetryableErrorTypes?: string[];
  cancelled?: boolean;
}

function setup() {
  const { meter, values } = recordingMeter();
  const metrics = createHarvestMetrics(meter);
  const factory = activityMetricsInterceptor(metrics);
  const inbound = (a: Attempt): ActivityInboundCallsInterceptor => {
    const abort = new AbortController();
    if (a.cancelled) abort.abort();
    const ctx = {
      info: {
        activityType: a.activityType,
        attempt: a.attempt ?? 1,
        retryPolicy: { maximumAttempts: a.maximumAttempts ?? 8, nonRetryableErrorTypes: a.nonRetryableErrorTypes },
      },
      cancellationSignal: abort.signal,
    } as unknown as ActivityContext;
    return factory(ctx).inbound!;
  };
  const run = (a: Attempt, args: unknown[], outcome: () => Promise<unknown>) =>
    inbound(a).execute!({ args, headers: {} } as ActivityExecuteInput, outcome);
  return { metrics, values, run };
}

const record = (size: number): DeliveryRecord => ({
  identifier: 'P1',
  location: 'file:///tmp/P1.zip',
  size,
  sha256: 'ab',
  zipEntries: 1,
  deliveredAt: '2025-01-01T00:00:00Z',
});
const item = (itemId: string, status: string): OrderItemView => ({ itemId, identifier: `P-${itemId}`, status });

describe('activity metrics interceptor', () => {
  it('counts a delivered product and its bytes, and passes the result through', async () => {
    const { values, run } = setup();
    const result = await run({ activityType: 'deliverProduct' }, [{}], async () => record(123_456));
    expect(result).toEqual(record(123_456));
    expect(sum(values, METRIC.productsDelivered, { storage: 'TEMPORARY' })).toBe(1);
    expect(sum(values, METRIC.bytesDelivered, { storage: 'TEMPORARY' })).toBe(123_456);
    expect(sum(values, METRIC.productsFailed)).toBe(0);
  });

  it('counts PRIVATE items found in the bucket as delivered and missing ones as failed', async () => {
    const { values, run } = setup();
    const results: PrivateItemResult[] = [
      {
        identifier: 'A',
        objects: [
          { key: 'a/1', size: 10, location: 's3://b/a/1' },
          { key: 'a/2', size: 32, location: 's3://b/a/2' },
        ],
      },
      { identifier: 'B', objects: [], problem: 'no output for this item' },
    ];
    await run({ activityType: 'verifyPrivateOutput' }, [{}], async () => results);
    expect(sum(values, METRIC.productsDelivered, { storage: 'PRIVATE' })).toBe(1);
    expect(sum(values, METRIC.bytesDelivered, { storage: 'PRIVATE' })).toBe(42);
    expect(sum(values, METRIC.productsFailed, { reason: 'output_missing' })).toBe(1);
  });

  it('counts the items the Hook failed or cancelled that the workflow has not handled yet', async () => {
    const { values, run } = setup();
    const input: PollOrderInput = { orderId: '1', handled: ['i1'], initialIntervalMs: 1, maxIntervalMs: 1, backoff: 1 };
    const snapshot: OrderSnapshot = {
      orderStatus: 'completed',
      items: [item('i1', 'failed'), item('i2', 'failed'), item('i3', 'cancelled'), item('i4', 'completed')],
    };
    await run({ activityType: 'pollOrder' }, [input], async () => snapshot);
    expect(sum(values, METRIC.productsFailed, { reason: 'hook_failed' })).toBe(1);
    expect(sum(values, METRIC.productsFailed, { reason: 'hook_cancelled' })).toBe(1);
    expect(sum(values, METRIC.productsFailed)).toBe(2);

    await run({ activityType: 'submitOrder' }, [{}], async () => ({
      orderId: '2',
      adopted: true,
      items: [item('j1', 'failed'), item('j2', 'queued')],
    }));
    expect(sum(values, METRIC.productsFailed, { reason: 'hook_failed' })).toBe(2);
  });

  it('counts a retryable failure with attempts left as a retry, not as a failed product', async () => {
    const { values, run } = setup();
    const failure = ApplicationFailure.create({ type: 'HookServerError', message: '503', nonRetryable: false });
    await expect(
      run({ activityType: 'deliverProduct', attempt: 3, maximumAttempts: 8 }, [{}], () => Promise.reject(failure)),
    ).rejects.toBe(failure);
    expect(
      sum(values, METRIC.activityRetries, { activity_type: 'deliverProduct', failure_type: 'HookServerError' }),
    ).toBe(1);
    expect(sum(values, METRIC.productsFailed)).toBe(0);
  });

  it.each([
    ['the last attempt', { attempt: 8, maximumAttempts: 8 }, false],
    ['a non-retryable failure', { attempt: 1 }, true],
    ['a type the retry policy does not retry', { attempt: 1, nonRetryableErrorTypes: ['HookServerError'] }, false],
  ])('counts a download that fails for good (%s) as failed, by failure type', async (_what, attempt, nonRetryable) => {
    const { values, run } = setup();
    const failure = ApplicationFailure.create({ type: 'HookServerError', message: 'gone', nonRetryable });
    await expect(run({ activityType: 'deliverProduct', ...attempt }, [{}], () => Promise.reject(failure))).rejects.toBe(
      failure,
    );
    expect(sum(values, METRIC.productsFailed, { reason: 'HookServerError' })).toBe(1);
    expect(sum(values, METRIC.activityRetries)).toBe(0);
  });

  it('does not count a poll that finds the order not ready yet, nor a cancelled attempt', async () => {
    const { values, run } = setup();
    const notReady = ApplicationFailure.create({
      type: 'OrderNotReady',
      message: 'still queued',
      category: ApplicationFailureCategory.BENIGN,
    });
    await expect(run({ activityType: 'pollOrder' }, [{}], () => Promise.reject(notReady))).rejects.toBe(notReady);
    const cancelled = new CancelledFailure('CANCELLED');
    await expect(run({ activityType: 'deliverProduct' }, [{}], () => Promise.reject(cancelled))).rejects.toBe(
      cancelled,
    );
    // A download stopped by a worker shutdown throws a plain error, with the signal aborted.
    const stopped = new Error('worker shutting down');
    await expect(
      run({ activityType: 'deliverProduct', cancelled: true }, [{}], () => Promise.reject(stopped)),
    ).rejects.toBe(stopped);
    expect(values).toEqual([]);
  });

  it('names the failure type of a plain error by its class', async () => {
    const { values, run } = setup();
    await expect(
      run({ activityType: 'submitOrder', attempt: 1, maximumAttempts: 10 }, [{}], () =>
        Promise.reject(new TypeError('boom')),
      ),
    ).rejects.toThrow('boom');
    expect(sum(values, METRIC.activityRetries, { activity_type: 'submitOrder', failure_type: 'TypeError' })).toBe(1);
  });
});

describe('Hook request observer', () => {
  it('records seconds by operation, method and status, and "error" when no answer came', () => {
    const { metrics, values } = setup();
    metrics.hookObserver.exchange({ operation: 'get-order-items', method: 'GET', status: 200, durationMs: 250 });
    metrics.hookObserver.exchange({ operation: 'product-link', method: 'GET', durationMs: 10_000 });
    expect(values).toEqual([
      {
        name: METRIC.hookRequestDuration,
        value: 0.25,
        tags: { operation: 'get-order-items', method: 'GET', status: '200' },
      },
      {
        name: METRIC.hookRequestDuration,
        value: 10,
        tags: { operation: 'product-link', method: 'GET', status: 'error' },
      },
    ]);
  });
});
