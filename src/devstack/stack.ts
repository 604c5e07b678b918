/**
 * The local stack: Temporal and an S3 server, both real, both on loopback, both stopped (with
 * their scratch folders removed) when `stop()` runs or when this process dies. Temporal is the
 * CLI's dev server (one process, SQLite), or with `cluster: true` a production-like cluster
 * (PostgreSQL, four service processes: temporal-cluster.ts). Used by the test harness,
 * `dedl-harvest dev [--cluster]` and `dedl-harvest demo`.
 */
import type { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_KEYS } from '../shared/search-attributes';
import { type S3Server, startS3Server } from './s3-server';
import { type TemporalCluster, startTemporalCluster } from './temporal-cluster';
import { startTemporalDevServer } from './temporal-dev-server';
import {
  type EnsureToolOptions,
  TEMPORAL_CLI,
  TEMPORAL_SERVER,
  TEMPORAL_SQL_TOOL,
  VERSITYGW,
  ensureTool,
} from './tools';

export interface LocalStackOptions extends EnsureToolOptions {
  /** Extra `--dynamic-config-value` pairs for the dev server. */
  dynamicConfig?: Record<string, unknown>;
  /** Serve the Temporal Web UI (0 = any free port; dev server only). */
  uiPort?: number;
  /** A Temporal cluster on PostgreSQL instead of the dev server. */
  cluster?: boolean;
}

/** What the rest of the stack's users need of Temporal, whichever kind runs. */
export interface LocalTemporal {
  readonly kind: 'dev-server' | 'cluster';
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl?: string;
  /** The cluster's processes and PostgreSQL, when `kind` is `cluster`. */
  readonly cluster?: TemporalCluster;
  stop(): Promise<void>;
}

export interface LocalStack {
  readonly temporal: LocalTemporal;
  readonly s3: S3Server;
  stop(): Promise<void>;
}

const CLI_TYPE_NAMES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** The project's search attributes in the `Name=Type` form of `--search-attribute`. */
export function searchAttributeFlags(): Record<string, string> {
  return Object.fromEntries(SEARCH_ATTRIBUTE_KEYS.map((key) => [key.name, CLI_TYPE_NAMES[key.type]]));
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  // Built one after the other: two Go builds at once would fight over 2 cores and the module cache.
  const temporalBinary = await ensureTool(TEMPORAL_CLI, options);
  const s3Binary = await ensureTool(VERSITYGW, options);
  const clusterBinaries = options.cluster
    ? { server: await ensureTool(TEMPORAL_SERVER, options), sql: await ensureTool(TEMPORAL_SQL_TOOL, options) }
    : undefined;
  const startTemporal = async (): Promise<LocalTemporal> => {
    if (!clusterBinaries) {
      const server = await startTemporalDevServer({
        binary: temporalBinary,
        searchAttributes: searchAttributeFlags(),
        dynamicConfig: options.dynamicConfig,
        uiPort: options.uiPort,
      });
      return { kind: 'dev-server', ...server, stop: () => server.stop() };
    }
    const cluster = await startTemporalCluster({
      serverBinary: clusterBinaries.server,
      sqlToolBinary: clusterBinaries.sql,
      cliBinary: temporalBinary,
      searchAttributes: searchAttributeFlags(),
      dynamicConfig: options.dynamicConfig,
      log: options.log,
    });
    return { kind: 'cluster', address: cluster.address, namespace: cluster.namespace, cluster, stop: cluster.stop };
  };
  const [temporal, s3] = await Promise.allSettled([startTemporal(), startS3Server({ binary: s3Binary })]);
  if (temporal.status === 'rejected' || s3.status === 'rejected') {
    await Promise.all([temporal, s3].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw temporal.status === 'rejected' ? temporal.reason : (s3 as PromiseRejectedResult).reason;
  }
  return {
    temporal: temporal.value,
    s3: s3.value,
    stop: async () => {
      await Promise.all([temporal.value.stop(), s3.value.stop()]);
    },
  };
}
