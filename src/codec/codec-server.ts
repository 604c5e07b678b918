/**
 * A remote codec server (`dedl-harvest codec-server`) so the Temporal UI and
 * `temporal --codec-endpoint` can show encrypted payloads. It speaks Temporal's remote codec
 * protocol: `POST <prefix>/encode` and `POST <prefix>/decode` with `{"payloads": [...]}` in proto3
 * JSON form (metadata values and data base64), answered in the same form.
 *
 * Whoever reaches it can decrypt, so it listens on loopback by default and answers browsers only
 * from the allowed origins (the UI's): any request carrying another `Origin` is refused, preflight
 * or not. Requests without `Origin` (the Temporal CLI) are served. `X-Namespace` is optional; when
 * namespaces are configured, a request naming another namespace is refused. With a token
 * (`DEDL_CODEC_TOKEN`), every encode/decode must carry `Authorization: Bearer <token>` — what
 * `temporal --codec-auth` sends. It speaks plain HTTP: beyond loopback, the token and the decoded
 * payloads must travel through TLS (a reverse proxy in front of it).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { type JSONPayload, JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils';
import { EncryptionCodec, PayloadDecryptionError } from './encryption-codec';
import type { PayloadKeyRing } from './payload-keys';

export const DEFAULT_CODEC_PORT = 8081;
export const DEFAULT_CODEC_HOST = '127.0.0.1';
/** The Temporal dev server's UI. */
export const DEFAULT_CORS_ORIGIN = 'http://localhost:8233';
/** One decode request carries a page of history payloads; far below this. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';

export interface CodecServerOptions {
  keys: PayloadKeyRing;
  /** Default 8081; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Browser origins allowed to call it (`*`: any); default the dev server's UI. */
  corsOrigins?: readonly string[];
  /** When set, requests whose `X-Namespace` names another namespace are refused (403). */
  namespaces?: readonly string[];
  /** When set, encode/decode requests need `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
}

export interface CodecServerHandle {
  /** `http://host:port`: what `--codec-endpoint` and the UI's codec setting take. */
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServerHandle> {
  const codec = new EncryptionCodec(options.keys);
  const origins = new Set(options.corsOrigins ?? [DEFAULT_CORS_ORIGIN]);
  const host = options.host ?? DEFAULT_CODEC_HOST;
  const expectedToken = options.token ? digest(options.token) : undefined;
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : err instanceof PayloadDecryptionError ? 400 : 500;
      const message = err instanceof HttpError || err instanceof PayloadDecryptionError ? err.message : 'codec error';
      if (!res.headersSent) sendText(res, status, message);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!origins.has('*') && !origins.has(origin)) throw new HttpError(403, `origin ${origin} is not allowed`);
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    const operation = /\/(encode|decode)\/?$/.exec(new URL(req.url ?? '/', 'http://codec').pathname)?.[1];
    if (!operation) throw new HttpError(404, 'not found: POST /encode or /decode');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      // Chrome asks before a public page (e.g. Temporal Cloud's UI) may call a loopback address.
      if (req.headers['access-control-request-private-network'] === 'true') {
        res.setHeader('Access-Control-Allow-Private-Network', 'true');
      }
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    if (expectedToken && !bearerMatches(req.headers.authorization, expectedToken)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'a valid Authorization: Bearer <token> is required');
    }
    const namespace = req.headers['x-namespace'];
    if (options.namespaces && typeof namespace === 'string' && !options.namespaces.includes(namespace)) {
      throw new HttpError(403, `namespace ${namespace} is not served here`);
    }
    const payloads = parsePayloads(await readBody(req));
    const result = operation === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    sendJson(res, 200, { payloads: result.map(payloadToJSON) });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_CODEC_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => closeServer(server),
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares digests in constant time, so the response time says nothing about the token. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  return presented !== undefined && timingSafeEqual(digest(presented), expected);
}

function parsePayloads(body: Buffer): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body must be JSON: {"payloads": [...]}');
  }
  const list = (parsed as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(list)) throw new HttpError(400, 'payloads: must be an array');
  return list.map((item: unknown, index) => {
    try {
      if (typeof item !== 'object' || item === null) throw new TypeError('not an object');
      return JSONToPayload(item as JSONPayload);
    } catch {
      throw new HttpError(400, `payloads[${index}]: not a payload in proto3 JSON form (base64 metadata and data)`);
    }
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
