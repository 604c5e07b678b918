/**
 * The worker's own Prometheus metrics, made with the Temporal Runtime's metric meter so they are
 * served on the same `/metrics` endpoint as the SDK's (`temporal_*`). Names follow Prometheus
 * conventions (`_total` counters, seconds); every label has a small, fixed set of values (no
 * product id, URL or account secret), so the number of series stays bounded.
 */
import type { MetricCounter, MetricHistogram, MetricMeter } from '@temporalio/common';
import type { MetricsExporterConfig } from '@temporalio/worker';
import type { HttpExchange, HttpObserver } from '../hook/http';

export const METRIC = {
  productsDelivered: 'dedl_products_delivered_total',
  productsFailed: 'dedl_products_failed_total',
  bytesDelivered: 'dedl_bytes_delivered_total',
  hookRequestDuration: 'dedl_hook_request_duration_seconds',
  activityRetries: 'dedl_activity_retries_total',
} as const;

/** Hook latency buckets, seconds: from a quick status call to a slow order search. */
const HOOK_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Why a product was not delivered: `hook_failed`/`hook_cancelled` (the Hook's item status), `output_missing` (PRIVATE), else the failure type of the download. */
export type FailureReason = 'hook_failed' | 'hook_cancelled' | 'output_missing' | (string & {});

export type Storage = 'TEMPORARY' | 'PRIVATE';

export interface HarvestMetrics {
  delivered(storage: Storage, bytes: number): void;
  failed(reason: FailureReason): void;
  /** An activity attempt failed and Temporal will run it again. */
  retried(activityType: string, failureType: string): void;
  /** Feeds the Hook clients' requests into the latency histogram. */
  readonly hookObserver: HttpObserver;
}

export function createHarvestMetrics(meter: MetricMeter): HarvestMetrics {
  const delivered: MetricCounter = meter.createCounter(
    METRIC.productsDelivered,
    undefined,
    'Products delivered and verified, by storage (TEMPORARY: downloaded to the sink; PRIVATE: found in the bucket)',
  );
  const bytes: MetricCounter = meter.createCounter(
    METRIC.bytesDelivered,
    'bytes',
    'Bytes of the products delivered (whole product size, also when a download resumed)',
  );
  const failed: MetricCounter = meter.createCounter(
    METRIC.productsFailed,
    undefined,
    'Products that will not be delivered, by reason (the Hook item status, or the failure type of the last download attempt)',
  );
  const retries: MetricCounter = meter.createCounter(
    METRIC.activityRetries,
    undefined,
    'Activity attempts that failed on this worker and that Temporal will retry, by activity and failure type',
  );
  const latency: MetricHistogram = meter.createHistogram(
    METRIC.hookRequestDuration,
    'float',
    's',
    'Hook requests: seconds until the response headers, by operation and status (the _count is the request count)',
  );
  return {
    delivered(storage, size) {
      delivered.add(1, { storage });
      if (size > 0) bytes.add(size, { storage });
    },
    failed(reason) {
      failed.add(1, { reason });
    },
    retried(activityType, failureType) {
      retries.add(1, { activity_type: activityType, failure_type: failureType });
    },
    hookObserver: {
      exchange(exchange: HttpExchange) {
        latency.record(exchange.durationMs / 1000, {
          operation: exchange.operation,
          method: exchange.method,
          status: exchange.status === undefined ? 'error' : String(exchange.status),
        });
      },
    },
  };
}

/** The Runtime's Prometheus exporter on `host:port`, serving `/metrics`, with our histogram's buckets. */
export function prometheusExporter(bindAddress: string): MetricsExporterConfig {
  return {
    prometheus: {
      bindAddress,
      histogramBucketOverrides: { [METRIC.hookRequestDuration]: HOOK_LATENCY_BUCKETS },
    },
  };
}
