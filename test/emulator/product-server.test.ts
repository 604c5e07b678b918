import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { createProductStream, productDigest, type ProductSpec } from '../../src/emulator/product';
import { serveProduct, type ServeFaults } from '../../src/emulator/product-server';

const ID = 'S2A_MSIL1C_20230910T050701_N0509_R019_T47VLH_20230910T074321.SAFE';
const SIZE = 1_500_007;
const ETAG = '"a8e7088bf0c45e20"';
const LAST_MODIFIED = new Date('2024-05-14T12:33:18.000Z');
const FILE_NAME = '20240514_20001_Ab3dEf9H.zip';

let server: Server;
let baseUrl: string;
let agent: Agent;
let whole: Buffer;
/** Every serveProduct call's promise, so tests can see when the server side finished. */
const served: Promise<void>[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const spec: ProductSpec = {
      identifier: url.searchParams.get('id') ?? ID,
      size: Number(url.searchParams.get('size') ?? SIZE),
    };
    const faults: ServeFaults = {};
    if (url.searchParams.has('reset')) faults.resetAfterBytes = Number(url.searchParams.get('reset'));
    if (url.searchParams.has('truncate')) faults.truncateAfterBytes = Number(url.searchParams.get('truncate'));
    served.push(serveProduct(req, res, spec, { etag: ETAG, lastModified: LAST_MODIFIED, fileName: FILE_NAME, faults }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent();
  const chunks: Buffer[] = [];
  for await (const chunk of createProductStream({ identifier: ID, size: SIZE })) chunks.push(chunk as Buffer);
  whole = Buffer.concat(chunks);
});

afterAll(async () => {
  await agent.close();
  server.close();
  await once(server, 'close');
});

async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' | 'POST' = 'GET') {
  const res = await request(`${baseUrl}${path}`, { dispatcher: agent, method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

/** Reads a body chunk by chunk and reports how far it got before it failed (if it did). */
async function readUntilFailure(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${baseUrl}${path}`, { dispatcher: agent, headers });
  const chunks: Buffer[] = [];
  let error: unknown;
  try {
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
  } catch (err) {
    error = err;
  }
  return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), error };
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('serveProduct', () => {
  it('serves the whole product with the object-store headers and the digest tests can know', async () => {
    const res = await get('/p');
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      'accept-ranges': 'bytes',
      'content-type': 'application/zip',
      'content-length': String(SIZE),
      etag: ETAG,
      'last-modified': 'Tue, 14 May 2024 12:33:18 GMT',
      'content-disposition': `attachment; filename="${FILE_NAME}"`,
    });
    expect(sha256(res.body)).toBe((await productDigest({ identifier: ID, size: SIZE })).sha256);
  });

  it('answers HEAD with the same headers and no body', async () => {
    const res = await get('/p', {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(res.headers.etag).toBe(ETAG);
    expect(res.body.length).toBe(0);
  });

  it.each([
    ['bytes=100-199', 100, 199],
    ['bytes=1000000-', 1_000_000, SIZE - 1],
    ['bytes=-300', SIZE - 300, SIZE - 1],
    ['bytes=0-', 0, SIZE - 1],
    ['bytes=1499000-99999999', 1_499_000, SIZE - 1],
    [`bytes=-${SIZE + 10}`, 0, SIZE - 1],
  ])('answers Range %s with 206 and exactly that slice', async (range, start, end) => {
    const res = await get('/p', { range });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(res.headers['content-length']).toBe(String(end - start + 1));
    expect(res.body.equals(whole.subarray(start, end + 1))).toBe(true);
  });

  it('rebuilds the whole product from consecutive ranges', async () => {
    const cuts = [0, 1, 65_536, 700_000, 700_001, SIZE];
    const parts: Buffer[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      parts.push((await get('/p', { range: `bytes=${cuts[i]}-${cuts[i + 1]! - 1}` })).body);
    }
    expect(sha256(Buffer.concat(parts))).toBe(sha256(whole));
  });

  it.each([`bytes=${SIZE}-`, `bytes=${SIZE + 5}-${SIZE + 10}`, 'bytes=-0'])(
    'answers an unsatisfiable Range %s with 416 and the size',
    async (range) => {
      const res = await get('/p', { range });
      expect(res.status).toBe(416);
      expect(res.headers['content-range']).toBe(`bytes */${SIZE}`);
    },
  );

  it.each(['bytes=0-1,5-6', 'bytes=50-10', 'items=0-5', 'bytes=abc'])(
    'answers a multi-range or malformed Range %s with the full body',
    async (range) => {
      const res = await get('/p', { range });
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(SIZE);
    },
  );

  it.each([
    ['the same ETag', ETAG, 206],
    ['another ETag', '"other"', 200],
    ['a weak ETag', `W/${ETAG}`, 200],
    ['the Last-Modified date', LAST_MODIFIED.toUTCString(), 206],
    ['another date', new Date(LAST_MODIFIED.getTime() + 1000).toUTCString(), 200],
    ['an unparsable date', 'yesterday', 200],
  ])('honours Range under If-Range with %s only when it matches', async (_what, ifRange, status) => {
    const res = await get('/p', { range: 'bytes=10-19', 'if-range': ifRange });
    expect(res.status).toBe(status);
    expect(res.body.length).toBe(status === 206 ? 10 : SIZE);
  });

  it('refuses other methods with 405', async () => {
    const res = await get('/p', {}, 'POST');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});

describe('serveProduct faults', () => {
  it('truncates a body cleanly after the given bytes, and a resumed range completes it', async () => {
    const cut = await readUntilFailure('/p?truncate=500000');
    expect(cut.status).toBe(200);
    expect(cut.headers['content-length']).toBe(String(SIZE));
    expect(cut.headers.connection).toBe('close');
    expect(cut.error).toBeDefined();
    expect(cut.body.length).toBe(500_000);

    const rest = await get('/p', { range: `bytes=${cut.body.length}-`, 'if-range': ETAG });
    expect(rest.status).toBe(206);
    const resumed = Buffer.concat([cut.body, rest.body]);
    expect(sha256(resumed)).toBe((await productDigest({ identifier: ID, size: SIZE })).sha256);
  });

  it('resets the connection after the given bytes of a ranged body', async () => {
    const cut = await readUntilFailure('/p?reset=300000', { range: 'bytes=1000-' });
    expect(cut.status).toBe(206);
    expect(cut.error).toBeDefined();
    expect(cut.body.length).toBeLessThanOrEqual(300_000);
    expect(cut.body.equals(whole.subarray(1000, 1000 + cut.body.length))).toBe(true);
  });

  it('resets before any body byte when asked for 0 bytes', async () => {
    const cut = await readUntilFailure('/p?reset=0');
    expect(cut.error).toBeDefined();
    expect(cut.body.length).toBe(0);
  });

  it('ignores a fault limit at or beyond the body length', async () => {
    const res = await get('/p?reset=100&truncate=100', { range: 'bytes=0-99' });
    expect(res.status).toBe(206);
    expect(res.body.equals(whole.subarray(0, 100))).toBe(true);
  });
});

describe('serveProduct and the client going away', () => {
  it('stops generating a 1 TiB product when the client disconnects', async () => {
    const before = served.length;
    const res = await request(`${baseUrl}/p?size=${1024 ** 4}`, { dispatcher: agent });
    expect(res.headers['content-length']).toBe(String(1024 ** 4));
    let received = 0;
    for await (const chunk of res.body) {
      received += (chunk as Buffer).length;
      if (received > 4_000_000) break; // leaving the loop destroys the body and its socket
    }
    // Resolving at all proves the server stopped: 1 TiB cannot have been generated and sent.
    await expect(served[before]).resolves.toBeUndefined();
  });
});
