/**
 * Serves one generated product over node:http the way an object store does: GET and HEAD,
 * single byte ranges (206), 416 for unsatisfiable ranges, If-Range, and backpressure all the way
 * from the socket to the generator. Optional faults break the body part-way for resume tests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertProductSpec, createProductStream, type ProductSpec } from './product';

/** Ways to break a response body, counted in body bytes of this response (not product offsets). */
export interface ServeFaults {
  /** Reset the connection (TCP RST) after this many body bytes have been written. */
  resetAfterBytes?: number;
  /** End the response cleanly (and close the connection) after this many body bytes, short of Content-Length. */
  truncateAfterBytes?: number;
  /** Change the body byte at this offset (every other byte and every header stay right). */
  corruptAtByte?: number;
}

/** Inclusive byte range, as in Content-Range. */
interface ByteRange {
  start: number;
  end: number;
}

/**
 * Answers `req` with the product `spec`. Resolves once the response is complete, cut by a fault, or
 * abandoned by the client (generation stops then). Rejects, before writing anything, for a spec
 * `createProductStream` refuses, and otherwise only if generation itself fails.
 */
export async function serveProduct(
  req: IncomingMessage,
  res: ServerResponse,
  spec: ProductSpec,
  o: {
    etag: string;
    lastModified: Date;
    fileName: string;
    faults?: ServeFaults;
    /** Paces the body (link shaping); not applied to bodies cut by a reset fault. */
    throttle?: Transform;
  },
): Promise<void> {
  assertProductSpec(spec); // before any header is written, so the caller can still answer 500
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Method Not Allowed\n');
    return;
  }
  const honourRange = ifRangeMatches(req.headers['if-range'], o.etag, o.lastModified);
  const range = honourRange ? parseRange(req.headers.range, spec.size) : undefined;
  if (range === 'unsatisfiable') {
    res.writeHead(416, {
      'Accept-Ranges': 'bytes',
      'Content-Range': `bytes */${spec.size}`,
      'Content-Type': 'text/plain; charset=utf-8',
    });
    res.end(method === 'HEAD' ? undefined : 'Requested Range Not Satisfiable\n');
    return;
  }
  const { start, end } = range ?? { start: 0, end: spec.size - 1 };
  const length = end - start + 1;
  const headers: Record<string, string | number> = {
    'Accept-Ranges': 'bytes',
    'Content-Type': 'application/zip',
    'Content-Length': length,
    ETag: o.etag,
    'Last-Modified': o.lastModified.toUTCString(),
    'Content-Disposition': contentDisposition(o.fileName),
  };
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${spec.size}`;
  const status = range ? 206 : 200;

  if (method === 'HEAD') {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const resetAt = faultLimit(o.faults?.resetAfterBytes, length);
  const truncateAt = faultLimit(o.faults?.truncateAfterBytes, length);
  if (resetAt !== undefined && (truncateAt === undefined || resetAt <= truncateAt)) {
    res.writeHead(status, headers);
    await writeThenReset(res, resetAt > 0 ? createProductStream(spec, { start, end: start + resetAt - 1 }) : undefined);
    return;
  }
  if (truncateAt !== undefined) {
    // Without closing, a keep-alive client would wait forever for the bytes Content-Length promised.
    res.writeHead(status, { ...headers, Connection: 'close' });
    if (truncateAt === 0) {
      res.end();
      return;
    }
    await pipeToResponse(createProductStream(spec, { start, end: start + truncateAt - 1 }), res, o.throttle);
    return;
  }
  res.writeHead(status, headers);
  const body = createProductStream(spec, { start, end });
  const corruptAt = faultLimit(o.faults?.corruptAtByte, length);
  await pipeToResponse(corruptAt === undefined ? body : body.compose(flipByte(corruptAt)), res, o.throttle);
}

/** A pass-through that inverts the byte at `offset` of the stream. */
function flipByte(offset: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (offset >= seen && offset < seen + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[offset - seen] = chunk[offset - seen]! ^ 0xff;
      }
      seen += chunk.length;
      done(null, chunk);
    },
  });
}

/** A fault's byte count if it cuts this body short, else undefined. */
function faultLimit(afterBytes: number | undefined, length: number): number | undefined {
  if (afterBytes === undefined || !Number.isFinite(afterBytes) || afterBytes < 0) return undefined;
  const limit = Math.floor(afterBytes);
  return limit < length ? limit : undefined;
}

/**
 * Parses a Range header against a representation of `size` bytes (RFC 9110 §14). Returns undefined
 * when the header is absent, malformed, not in bytes, or asks for several ranges (those get the
 * whole body, which the RFC allows).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined; // invalid syntax: the header is ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/**
 * If-Range (RFC 9110 §13.1.5): true when there is no If-Range, or when it names the current
 * representation: the same strong ETag, or exactly the Last-Modified date.
 */
function ifRangeMatches(header: string | string[] | undefined, etag: string, lastModified: Date): boolean {
  if (header === undefined) return true;
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  if (value.startsWith('"') || value.startsWith('W/')) return !value.startsWith('W/') && value === etag;
  const date = Date.parse(value);
  return Number.isFinite(date) && Math.floor(date / 1000) === Math.floor(lastModified.getTime() / 1000);
}

function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  if (ascii === fileName) return `attachment; filename="${ascii}"`;
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/** Streams `source` into `res` with backpressure; a client that goes away stops the generator. */
async function pipeToResponse(source: Readable, res: ServerResponse, throttle?: Transform): Promise<void> {
  try {
    await (throttle ? pipeline(source, throttle, res) : pipeline(source, res));
  } catch (err) {
    if (!isClientGone(err)) throw err;
  }
}

/**
 * Writes `source` (if any), waits until it has reached the socket, then resets the connection, so
 * the client sees the bytes and then ECONNRESET. Slow on purpose: only fault injection uses it.
 */
async function writeThenReset(res: ServerResponse, source: Readable | undefined): Promise<void> {
  const socket = res.socket;
  res.flushHeaders();
  try {
    for await (const chunk of source ?? []) {
      if (!(await writeFlushed(res, chunk as Buffer))) return;
    }
  } catch (err) {
    res.destroy();
    if (!isClientGone(err)) throw err;
    return;
  } finally {
    source?.destroy();
  }
  if (socket && !socket.destroyed) socket.resetAndDestroy();
}

/** Writes one chunk and resolves once it has been handed to the socket (true) or the socket closed (false). */
function writeFlushed(res: ServerResponse, chunk: Buffer): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = (): void => resolve(false);
    res.once('close', onClose);
    res.write(chunk, (err) => {
      res.off('close', onClose);
      resolve(!err);
    });
  });
}

/** Errors that only mean the client went away (or its connection broke) before the body was sent. */
function isClientGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ERR_STREAM_DESTROYED'
  );
}
