/**
 * `ScheduledHarvestInput`: the action of a Temporal Schedule. Each run harvests what the catalogue
 * has for one time window, derived from the run's scheduled time: the `every` before it (the
 * schedule's interval) plus an `overlap`, shifted back by `delay` (the catalogue's ingestion lag).
 * Overlapping windows cost nothing: the ledger skips products already verified. One JSON object,
 * so `temporal schedule create … --workflow-type scheduledHarvest --input '{…}'` works.
 * Workflow-safe.
 */
import { z } from 'zod';
import { campaignBaseSchema, stacQuerySchema } from './campaign-request';
import { describeIssues } from './harvest-request';
import { parseDuration } from './duration';

const duration = (what: string) =>
  z.string().refine((text) => parseDuration(text) !== undefined, `${what} must be a duration like 30m, 6h or 1d`);

export const scheduledHarvestSchema = campaignBaseSchema
  .omit({ identifiers: true, query: true, name: true, paused: true })
  .extend({
    /** A label; each run's campaign is named `<name> <window end>`. */
    name: z
      .string()
      .min(1, 'must not be empty')
      .max(40, 'must be at most 40 characters')
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'may use letters, digits, space, dot, dash and underscore'),
    bbox: stacQuerySchema.shape.bbox,
    filter: stacQuerySchema.shape.filter,
    maxItems: stacQuerySchema.shape.maxItems,
    /** Length of a window: the schedule's interval. */
    every: duration('every'),
    /** How far each window reaches back into the previous one. */
    overlap: duration('overlap').default('1h'),
    /** Windows end this long before the scheduled time (products appear in the catalogue late). */
    delay: duration('delay').default('0s'),
    /** The instant the window ends at (before `delay`); default: the run's scheduled time, else its start. */
    scheduledTime: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((r) => r.output.storage === 'PRIVATE' || !r.output.sink.startsWith('s3://') || r.output.sinkCredentials, {
    message: 'an s3:// sink needs "sinkCredentials"',
    path: ['output', 'sinkCredentials'],
  });

export type ScheduledHarvestInput = z.input<typeof scheduledHarvestSchema>;
export type ScheduledHarvest = z.output<typeof scheduledHarvestSchema>;

export function parseScheduledHarvest(
  input: unknown,
): { ok: true; request: ScheduledHarvest } | { ok: false; problems: string[] } {
  const result = scheduledHarvestSchema.safeParse(input);
  return result.success ? { ok: true, request: result.data } : { ok: false, problems: describeIssues(result.error) };
}

export interface TimeWindow {
  start: string;
  end: string;
}

/** The window of a run scheduled at `scheduled`: [scheduled − delay − every − overlap, scheduled − delay]. */
export function windowOf(scheduled: Date, settings: Pick<ScheduledHarvest, 'every' | 'overlap' | 'delay'>): TimeWindow {
  const end = scheduled.getTime() - parseDuration(settings.delay)!;
  const start = end - parseDuration(settings.every)! - parseDuration(settings.overlap)!;
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

/** `2023-01-04T00:00:00.000Z` → `20230104T0000Z`, for names. */
export function compactTime(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\d\d\.\d{3}Z$|\d\dZ$/, 'Z');
}
