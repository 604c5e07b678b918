/**
 * Validation of a STAC item search (POST body or GET query) into the catalogue's
 * `StacSearchParams`, with errors that name the offending field.
 */
import type { Bbox } from './stac-catalogue';
import type { StacSearchParams } from './stac';
import { DEFAULT_LIMIT, decodePageToken } from './stac-paging';

const MAX_LIMIT = 100;
const DAY_MS = 86_400_000;

class ParamError extends Error {
  override readonly name = 'ParamError';
}

/**
 * Validates a search: a POST body, or a GET query as a plain object of strings (lists comma
 * separated). Unknown members (`query`, `filter`, `fields`, …) are ignored. `intersects` is
 * reduced to its geometry's bbox, a documented approximation. Errors name the offending field.
 */
export function parseSearchParams(
  input: unknown,
): { ok: true; params: StacSearchParams } | { ok: false; message: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, message: 'the search request must be a JSON object' };
  }
  const o = input as Record<string, unknown>;
  try {
    const params: StacSearchParams = { limit: parseLimit(o['limit']) };
    const collections = stringList(o['collections'], 'collections');
    if (collections) params.collections = collections;
    const ids = stringList(o['ids'], 'ids');
    if (ids) params.ids = ids;
    if (o['bbox'] !== undefined && o['intersects'] !== undefined) {
      throw new ParamError('bbox and intersects cannot be used together');
    }
    if (o['bbox'] !== undefined) params.bbox = parseBbox(o['bbox']);
    if (o['intersects'] !== undefined) params.bbox = geometryBbox(o['intersects']);
    if (o['datetime'] !== undefined) params.datetime = parseDatetime(o['datetime']);
    if (o['token'] !== undefined) {
      if (typeof o['token'] !== 'string' || decodePageToken(o['token']) === undefined) {
        throw new ParamError('token is not a paging token issued by this service');
      }
      params.token = o['token'];
    }
    if (o['sortby'] !== undefined) params.sortby = parseSortby(o['sortby']);
    return { ok: true, params };
  } catch (err) {
    if (err instanceof ParamError) return { ok: false, message: err.message };
    throw err;
  }
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new ParamError(`${field} must be a list of non-empty strings`);
  }
  return list.length > 0 ? (list as string[]) : undefined;
}

function parseLimit(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_LIMIT;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new ParamError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return n;
}

function parseBbox(value: unknown): Bbox {
  const raw = typeof value === 'string' ? value.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))) : value;
  const message = 'bbox must be 4 numbers west,south,east,north (or 6 with heights) in degrees, south <= north';
  if (!Array.isArray(raw) || (raw.length !== 4 && raw.length !== 6) || !raw.every((x) => Number.isFinite(x))) {
    throw new ParamError(message);
  }
  const [w, s, e, n] = (raw.length === 4 ? raw : [raw[0], raw[1], raw[3], raw[4]]) as Bbox;
  const lonOk = (x: number): boolean => x >= -180 && x <= 180;
  if (!lonOk(w) || !lonOk(e) || s < -90 || n > 90 || s > n) throw new ParamError(message);
  return [w, s, e, n];
}

const GEOMETRY_TYPES = ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'];

function geometryBbox(value: unknown): Bbox {
  let geometry = value;
  if (typeof value === 'string') {
    try {
      geometry = JSON.parse(value);
    } catch {
      geometry = undefined;
    }
  }
  const g = geometry as { type?: unknown; coordinates?: unknown } | undefined;
  const positions: number[][] = [];
  const collect = (c: unknown): boolean => {
    if (Array.isArray(c) && c.length >= 2 && c.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      positions.push(c as number[]);
      return true;
    }
    return Array.isArray(c) && c.length > 0 && c.every(collect);
  };
  if (!g || typeof g.type !== 'string' || !GEOMETRY_TYPES.includes(g.type) || !collect(g.coordinates)) {
    throw new ParamError(`intersects must be a GeoJSON geometry (${GEOMETRY_TYPES.join(', ')})`);
  }
  return parseBbox([
    Math.min(...positions.map((p) => p[0]!)),
    Math.min(...positions.map((p) => p[1]!)),
    Math.max(...positions.map((p) => p[0]!)),
    Math.max(...positions.map((p) => p[1]!)),
  ]);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?$/;

/** An RFC 3339 instant, or `start/end` with `..` or an empty side for an open end. Dates alone cover their whole UTC day. */
function parseDatetime(value: unknown): { start?: number; end?: number } {
  const message = 'datetime must be an RFC 3339 date-time or an interval start/end (use .. for an open end)';
  if (typeof value !== 'string') throw new ParamError(message);
  const parts = value.trim().split('/');
  if (parts.length === 1) {
    const day = instant(parts[0]!, message);
    return { start: day.start, end: day.end };
  }
  if (parts.length !== 2) throw new ParamError(message);
  const open = (s: string): boolean => s === '' || s === '..';
  const [from, to] = parts as [string, string];
  if (open(from) && open(to)) throw new ParamError('datetime interval needs at least one closed end');
  const start = open(from) ? undefined : instant(from, message).start;
  const end = open(to) ? undefined : instant(to, message).end;
  if (start !== undefined && end !== undefined && start > end) {
    throw new ParamError('datetime interval start is after its end');
  }
  return { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) };
}

function instant(text: string, message: string): { start: number; end: number } {
  const m = RFC3339.exec(text);
  if (!m) throw new ParamError(message);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dayStart = Date.UTC(y, mo - 1, d);
  if (mo < 1 || mo > 12 || new Date(dayStart).getUTCDate() !== d) throw new ParamError(message);
  if (m[4] === undefined) return { start: dayStart, end: dayStart + DAY_MS - 1 };
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) throw new ParamError(message);
  const t = Date.parse(
    text
      .toUpperCase()
      .replace(' ', 'T')
      .replace(/:60(?=[.Z+-])/, ':59'),
  );
  if (!Number.isFinite(t)) throw new ParamError(message);
  return { start: t, end: t };
}

function parseSortby(value: unknown): NonNullable<StacSearchParams['sortby']> {
  const message = 'sortby must name datetime or id, each asc or desc (e.g. -datetime,+id)';
  const terms =
    typeof value === 'string'
      ? value.split(',').map((t) => {
          const s = t.trim();
          return { field: s.replace(/^[+-]/, ''), direction: s.startsWith('-') ? 'desc' : 'asc' };
        })
      : value;
  if (!Array.isArray(terms) || terms.length === 0) throw new ParamError(message);
  return terms.map((t: unknown) => {
    const { field, direction = 'asc' } = (t ?? {}) as { field?: unknown; direction?: unknown };
    const name = field === 'properties.datetime' ? 'datetime' : field;
    if ((name !== 'datetime' && name !== 'id') || (direction !== 'asc' && direction !== 'desc')) {
      throw new ParamError(message);
    }
    return { field: name, direction };
  });
}
