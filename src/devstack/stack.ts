/**
 * The local stack: a Temporal dev server and an S3 server, both real, both on loopback, both
 * stopped (with their scratch folders removed) when `stop()` runs or when this process dies.
 * Used by the test harness, `dedl-harvest dev` and `dedl-harvest demo`.
 */
import type { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_KEYS } from '../shared/search-attributes';
import { type S3Server, startS3Server } from './s3-server';
import { type TemporalDevServer, startTemporalDevServer } from './temporal-dev-server';
import { type EnsureToolOptions, TEMPORAL_CLI, VERSITYGW, ensureTool } from './tools';

export interface LocalStackOptions extends EnsureToolOptions {
  /** Extra `--dynamic-config-value` pairs for the dev server. */
  dynamicConfig?: Record<string, unknown>;
  /** Serve the Temporal Web UI (0 = any free port). */
  uiPort?: number;
}

export interface LocalStack {
  readonly temporal: TemporalDevServer;
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
  const [temporal, s3] = await Promise.allSettled([
    startTemporalDevServer({
      binary: temporalBinary,
      searchAttributes: searchAttributeFlags(),
      dynamicConfig: options.dynamicConfig,
      uiPort: options.uiPort,
    }),
    startS3Server({ binary: s3Binary }),
  ]);
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
