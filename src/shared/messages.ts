/** Queries and signals of the harvest workflow, shared by the workflow and its clients. */
import { defineQuery } from '@temporalio/workflow';
import type { HarvestProgress } from './harvest-report';

/** Live progress: per item state, bytes and error, plus the phase. Bytes of downloads still running
 * are in the download activities' heartbeats (see `src/client/progress.ts`). */
export const progressQuery = defineQuery<HarvestProgress>('progress');
