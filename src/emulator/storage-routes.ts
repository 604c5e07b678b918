/**
 * The emulated Swift temporary storage, `/swift/v1/tmp-storage/<name>.zip?temp_url_sig=…&temp_url_expires=…`:
 * no bearer, the TempURL signature is the authorisation. Expired or tampered links get 401, as
 * Swift answers; a valid link to an unknown object gets 404. Bodies support Range/If-Range and the
 * reset/truncate faults.
 */
import { createHash } from 'node:crypto';
import { type Clock } from './clock';
import { type FaultInjector } from './faults';
import { sendHtml, sendJson } from './http-util';
import { type ServeFaults, parseRange, serveProduct } from './product-server';
import { type RequestContext, type Route } from './router';
import { type LinkShaper } from './shaping';
import { type EmulatorStats } from './stats';
import { type TempStore, TMP_STORAGE_PATH } from './temp-store';
import { verifyTempUrl } from './temp-url';

export interface StorageDeps {
  clock: Clock;
  temp: TempStore;
  tempUrlKey: string;
  faults: FaultInjector;
  stats: EmulatorStats;
  /** Link shaping (off unless the `shaping` fault is set). */
  shaper: LinkShaper;
}

const UNAUTHORIZED =
  '<html><h1>Unauthorized</h1><p>This server could not verify that you are authorized to access the document you requested.</p></html>';
const NOT_FOUND = '<html><h1>Not Found</h1><p>The resource could not be found.</p></html>';

/** Swift-like ETag: an MD5 hex, here of the product's identity rather than its bytes (stable, cheap). */
export function tempObjectEtag(identifier: string, size: number): string {
  return `"${createHash('md5').update(`${identifier}\n${size}`).digest('hex')}"`;
}

export function createStorageRoutes(d: StorageDeps): Route[] {
  const serve = async (ctx: RequestContext, m: RegExpExecArray): Promise<void> => {
    const q = ctx.url.searchParams;
    const verdict = verifyTempUrl({
      method: ctx.req.method ?? 'GET',
      objectPath: ctx.path,
      sig: q.get('temp_url_sig'),
      expires: q.get('temp_url_expires'),
      key: d.tempUrlKey,
      nowSec: Math.floor(d.clock.now() / 1000),
    });
    if (verdict !== 'ok') return sendHtml(ctx.res, 401, UNAUTHORIZED);
    const object = d.temp.get(m[1] ?? '');
    if (!object) return sendHtml(ctx.res, 404, NOT_FOUND);
    const early = d.faults.settings.linksExpireAfterMs;
    if (early !== null && d.clock.now() > object.completedAt + early) {
      d.stats.fault('linkExpiredEarly');
      return sendHtml(ctx.res, 401, UNAUTHORIZED);
    }
    let throttle;
    if (ctx.req.method === 'GET') {
      const admitted = d.shaper.admit(ctx.req);
      if ('status' in admitted) {
        d.stats.fault('overConnectionLimit');
        return sendJson(
          ctx.res,
          admitted.status,
          { detail: admitted.status === 429 ? 'Too Many Requests' : 'Service Unavailable' },
          { 'retry-after': String(admitted.retryAfterSec) },
        );
      }
      ctx.res.once('close', admitted.release);
      await d.shaper.firstByte();
      throttle = d.shaper.throttle(ctx.req.socket);
    }
    const faults: ServeFaults = {};
    const range = parseRange(ctx.req.headers.range, object.size);
    if (ctx.req.method === 'GET') d.stats.storageRead(ctx.path, range && range !== 'unsatisfiable' ? range.start : 0);
    if (ctx.req.method === 'GET' && d.faults.appliesTo('storage')) {
      // Cut points count bytes of this response's body; a fault that would cut nothing is not one.
      const length = range && range !== 'unsatisfiable' ? range.end - range.start + 1 : object.size;
      const s = d.faults.settings;
      if (d.faults.roll('reset', s.resetRate)) {
        faults.resetAfterBytes = s.resetAfterBytes ?? Math.floor(length / 2);
        if (faults.resetAfterBytes < length) d.stats.fault('reset');
      } else if (d.faults.roll('truncate', s.truncateRate)) {
        faults.truncateAfterBytes = s.truncateAfterBytes ?? Math.floor(length / 2);
        if (faults.truncateAfterBytes < length) d.stats.fault('truncate');
      } else if (d.faults.roll('corrupt', s.corruptRate)) {
        faults.corruptAtByte = Math.floor(length / 2);
        d.stats.fault('corrupt');
      }
    }
    await serveProduct(
      ctx.req,
      ctx.res,
      { identifier: object.identifier, size: object.size },
      {
        etag: tempObjectEtag(object.identifier, object.size),
        lastModified: new Date(object.completedAt),
        fileName: object.name,
        faults,
        throttle,
      },
    );
  };

  return [
    {
      methods: ['GET', 'HEAD'],
      pattern: /^\/swift\/v1\/tmp-storage\/([^/]+)$/,
      template: `${TMP_STORAGE_PATH}/{object}`,
      scope: 'storage',
      handle: serve,
    },
  ];
}
