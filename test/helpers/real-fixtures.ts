/**
 * The recorded answers of the real services in test/fixtures/real/ (format: COMMON.md): loading,
 * the newest capture of a request, and a shape diff that compares two JSON answers field by field
 * (names, JSON types, `@odata.context` strings), not their values.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface RealFixture {
  file: string;
  source: string;
  commit: string | null;
  recorded: string;
  request: { method: string; path: string };
  status: number | null;
  body: unknown;
  notes: string;
}

export const REAL_FIXTURES_DIR = path.join(__dirname, '..', 'fixtures', 'real');

export function realFixtures(): RealFixture[] {
  return readdirSync(REAL_FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(path.join(REAL_FIXTURES_DIR, file), 'utf8')) as object) }))
    .map((f) => f as RealFixture);
}

/** The fixture named `<prefix>-<date>[-n].json` recorded last. */
export function newestFixture(prefix: string): RealFixture {
  const matching = realFixtures().filter((f) =>
    new RegExp(`^${prefix}-\\d{4}-\\d{2}-\\d{2}(-\\d+)?\\.json$`).test(f.file),
  );
  const newest = matching.sort((a, b) => a.recorded.localeCompare(b.recorded)).at(-1);
  if (!newest) throw new Error(`no fixture ${prefix}-<date>.json in ${REAL_FIXTURES_DIR}`);
  return newest;
}

/** The fixture `<name>.json`. */
export function fixture(name: string): RealFixture {
  const found = realFixtures().find((f) => f.file === `${name}.json`);
  if (!found) throw new Error(`no fixture ${name}.json in ${REAL_FIXTURES_DIR}`);
  return found;
}

const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * Every difference in shape between `actual` and `expected`, as `path: what`. Objects must have
 * the same field names with the same JSON types (a recorded null accepts anything: the capture does
 * not say the type); array elements are compared with the recorded element of the same `Name`, else the first; `@odata.context`
 * strings must be equal.
 */
export function shapeDiff(actual: unknown, expected: unknown, at = '$'): string[] {
  const [ta, te] = [jsonType(actual), jsonType(expected)];
  if (te === 'null') return [];
  if (ta !== te) return [`${at}: ${ta}, recorded ${te}`];
  if (te === 'array') {
    const recorded = expected as unknown[];
    if (recorded.length === 0) return [];
    return (actual as unknown[]).flatMap((item, i) => shapeDiff(item, counterpart(item, recorded), `${at}[${i}]`));
  }
  if (te !== 'object') return [];
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  const diffs: string[] = [];
  for (const key of Object.keys(e)) {
    if (!(key in a)) diffs.push(`${at}.${key}: missing`);
    else if (key === '@odata.context' && a[key] !== e[key]) {
      diffs.push(`${at}.${key}: ${JSON.stringify(a[key])}, recorded ${JSON.stringify(e[key])}`);
    } else diffs.push(...shapeDiff(a[key], e[key], `${at}.${key}`));
  }
  for (const key of Object.keys(a)) if (!(key in e)) diffs.push(`${at}.${key}: not in the capture`);
  return diffs;
}

/** The recorded element to compare an element with: the one of the same `Name`, else the first. */
function counterpart(item: unknown, recorded: unknown[]): unknown {
  const name = (item as { Name?: unknown } | null)?.Name;
  return (name !== undefined && recorded.find((r) => (r as { Name?: unknown } | null)?.Name === name)) || recorded[0];
}
