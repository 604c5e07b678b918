/**
 * `output.layout`: where in a sink a product lands, as a template such as
 * `{collection}/{yyyy}/{mm}/{dd}/{identifier}.zip`, filled in from the product's STAC item. The
 * template is checked here (zod, workflow-safe) and rendered into path segments; each segment is
 * then made a safe file name by the sink (storage/safe-name.ts), as a product name always was.
 */
import { z } from 'zod';

/** Today's flat layout: the product's zip right in the sink. */
export const DEFAULT_LAYOUT = '{identifier}.zip';

/** The fields a layout may use, and where each comes from. */
export const LAYOUT_FIELDS = {
  identifier: 'the product identifier',
  collection: "the STAC item's collection (else the request's)",
  yyyy: "year of the item's datetime (start_datetime when datetime is null)",
  mm: 'month, two digits',
  dd: 'day of the month, two digits',
  doy: 'day of the year, three digits',
  platform: "the item's platform property, e.g. sentinel-2a",
} as const;

export type LayoutField = keyof typeof LAYOUT_FIELDS;

/** What a field renders to when the item does not say (a missing date, platform or collection). */
export const UNKNOWN_FIELD = 'unknown';

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Problems of a layout template, each a sentence naming what is wrong (empty when it is fine). */
export function layoutProblems(template: string): string[] {
  const problems: string[] = [];
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!(name! in LAYOUT_FIELDS)) {
      problems.push(
        `unknown placeholder {${name}} (known: ${Object.keys(LAYOUT_FIELDS)
          .map((f) => `{${f}}`)
          .join(' ')})`,
      );
    }
  }
  const literal = template.replace(PLACEHOLDER, 'x');
  if (/[{}]/.test(literal)) problems.push('has an unmatched { or }');
  if (!template.includes('{identifier}'))
    problems.push('must contain {identifier}, so that two products never share a path');
  if (template.startsWith('/')) problems.push('must be relative to the sink (no leading /)');
  if (template.includes('\\')) problems.push('must separate folders with / (no backslash)');
  if (/[\x00-\x1f\x7f]/.test(template)) problems.push('must not contain control characters');
  const segments = template.split('/');
  if (segments.includes('')) problems.push('must not have empty folder names (// or a trailing /)');
  if (segments.some((s) => s === '.' || s === '..')) problems.push('must not contain "." or ".." folders');
  if (segments.length > 8) problems.push('must be at most 8 levels deep');
  return problems;
}

export const layoutTemplate = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .superRefine((template, ctx) => {
    for (const message of layoutProblems(template)) ctx.addIssue({ code: 'custom', message });
  });

/** What a layout is filled from: the product's STAC item, or as much as is known without one. */
export interface LayoutSource {
  identifier: string;
  collection?: string;
  /** RFC 3339; undefined when the item has no date. */
  datetime?: string;
  platform?: string;
}

/**
 * The template filled in, as path segments (the last one the product's own name). Values are not
 * made safe here; a value holding a `/` is kept inside its segment, never a new folder.
 */
export function renderLayout(template: string, source: LayoutSource): string[] {
  const date = source.datetime ? new Date(source.datetime) : undefined;
  const valid = date !== undefined && !Number.isNaN(date.getTime());
  const pad = (n: number, digits: number) => String(n).padStart(digits, '0');
  const values: Record<LayoutField, string> = {
    identifier: source.identifier,
    collection: source.collection ?? UNKNOWN_FIELD,
    yyyy: valid ? pad(date.getUTCFullYear(), 4) : UNKNOWN_FIELD,
    mm: valid ? pad(date.getUTCMonth() + 1, 2) : UNKNOWN_FIELD,
    dd: valid ? pad(date.getUTCDate(), 2) : UNKNOWN_FIELD,
    doy: valid ? pad(dayOfYear(date), 3) : UNKNOWN_FIELD,
    platform: source.platform ?? UNKNOWN_FIELD,
  };
  return template
    .split('/')
    .map((segment) =>
      segment.replace(PLACEHOLDER, (_, name: string) => values[name as LayoutField].replace(/\//g, '_')),
    );
}

function dayOfYear(date: Date): number {
  return Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}
