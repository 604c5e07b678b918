/**
 * The remote codec server over real HTTP on loopback: Temporal's protocol (POST /encode and
 * /decode with proto3-JSON payloads), CORS for the UI, X-Namespace, and clear refusals. Then the
 * `dedl-harvest codec-server` command that runs it.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { type JSONPayload, JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils';
import { request as http } from 'undici';
import { runCli } from '../../../src/client/cli';
import { type CodecServerHandle, startCodecServer } from '../../../src/codec/codec-server';
import { EncryptionCodec } from '../../../src/codec/encryption-codec';
import { parsePayloadKeys } from '../../../src/codec/payload-keys';
import { captureIO, cli } from '../../e2e/cli-helpers';

const KEY = randomBytes(32).toString('base64');
const OTHER = randomBytes(32).toString('base64');
const UI = 'http://localhost:8233';
const VALUE = { identifier: 'S2A_MSIL1C_20240610T102021' };

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await http(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('codec server', () => {
  let server: CodecServerHandle;
  const codec = new EncryptionCodec(parsePayloadKeys(`k1:${KEY}`));

  beforeAll(async () => {
    server = await startCodecServer({
      keys: parsePayloadKeys(`k1:${KEY}`),
      port: 0,
      corsOrigins: [UI],
      namespaces: ['default'],
    });
  });
  afterAll(() => server?.close());

  it('decodes what the worker encrypted, in proto3 JSON form', async () => {
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(VALUE)]);
    const res = await post(
      `${server.url}/decode`,
      { payloads: [payloadToJSON(encrypted!)] },
      { 'X-Namespace': 'default' },
    );
    expect(res.status).toBe(200);
    const { payloads } = JSON.parse(res.text) as { payloads: JSONPayload[] };
    expect(payloads[0]!.metadata!.encoding).toBe(Buffer.from('json/plain').toString('base64'));
    expect(defaultPayloadConverter.fromPayload(JSONToPayload(payloads[0]!))).toEqual(VALUE);
  });

  it('encodes (under a path prefix too), and the codec decodes the result', async () => {
    const res = await post(`${server.url}/codec/encode`, {
      payloads: [payloadToJSON(defaultPayloadConverter.toPayload(VALUE))],
    });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(Buffer.from(JSON.stringify(VALUE)).toString('base64'));
    const { payloads } = JSON.parse(res.text) as { payloads: JSONPayload[] };
    const [decoded] = await codec.decode([JSONToPayload(payloads[0]!)]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(VALUE);
  });

  it('answers the UI preflight and adds CORS headers for its origin', async () => {
    const preflight = await http(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: UI,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
        'access-control-request-private-network': 'true',
      },
    });
    await preflight.body.dump();
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(UI);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('x-namespace');
    expect(preflight.headers['access-control-allow-private-network']).toBe('true');
    const res = await post(`${server.url}/decode`, { payloads: [] }, { origin: UI });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(UI);
    expect(JSON.parse(res.text)).toEqual({ payloads: [] });
  });

  it('refuses other origins, other namespaces, bad bodies, unknown paths and other methods', async () => {
    const foreign = await post(`${server.url}/decode`, { payloads: [] }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect((await post(`${server.url}/decode`, { payloads: [] }, { 'X-Namespace': 'prod' })).status).toBe(403);
    expect(await post(`${server.url}/decode`, 'not json')).toMatchObject({ status: 400, text: /must be JSON/ });
    expect(await post(`${server.url}/decode`, { payloads: 'x' })).toMatchObject({
      status: 400,
      text: /payloads: must be an array/,
    });
    expect(await post(`${server.url}/decode`, { payloads: [7] })).toMatchObject({ status: 400, text: /payloads\[0\]/ });
    expect((await post(`${server.url}/other`, { payloads: [] })).status).toBe(404);
    const get = await http(`${server.url}/decode`);
    await get.body.dump();
    expect(get.statusCode).toBe(405);
  });

  it('names an unknown key id (400) without any key', async () => {
    const [foreign] = await new EncryptionCodec(parsePayloadKeys(`gone:${OTHER}`)).encode([
      defaultPayloadConverter.toPayload(VALUE),
    ]);
    const res = await post(`${server.url}/decode`, { payloads: [payloadToJSON(foreign!)] });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/key id "gone"/);
    expect(res.text).not.toContain(KEY);
    expect(res.text).not.toContain(OTHER);
  });
});

describe('codec server with a bearer token', () => {
  const TOKEN = randomBytes(24).toString('hex');
  let server: CodecServerHandle;
  beforeAll(async () => {
    server = await startCodecServer({ keys: parsePayloadKeys(`k1:${KEY}`), port: 0, corsOrigins: [UI], token: TOKEN });
  });
  afterAll(() => server?.close());

  it('serves only requests that carry the token, and still answers the UI preflight', async () => {
    const body = { payloads: [payloadToJSON(defaultPayloadConverter.toPayload(VALUE))] };
    const refused = [
      await post(`${server.url}/encode`, body),
      await post(`${server.url}/encode`, body, { Authorization: `Bearer ${TOKEN}x` }),
      await post(`${server.url}/encode`, body, { Authorization: `Basic ${TOKEN}` }),
    ];
    expect(refused.map((r) => [r.status, r.headers['www-authenticate']])).toEqual([
      [401, 'Bearer'],
      [401, 'Bearer'],
      [401, 'Bearer'],
    ]);
    for (const r of refused) expect(r.text).not.toContain(TOKEN);
    expect((await post(`${server.url}/encode`, body, { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    // Browsers send preflights without credentials: they must not be refused.
    const preflight = await http(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI, 'access-control-request-method': 'POST' },
    });
    await preflight.body.dump();
    expect(preflight.statusCode).toBe(204);
  });
});

describe('dedl-harvest codec-server', () => {
  it('serves with the keys from the environment until stopped', async () => {
    const stop = new AbortController();
    const captured = captureIO({ DEDL_PAYLOAD_KEYS: `new:${OTHER},old:${KEY}` }, process.cwd(), {
      signal: stop.signal,
    });
    const running = runCli(['codec-server', '--json', '--port', '0'], captured.io);
    try {
      const printed = JSON.parse(await captured.stdoutMatching(/}\n$/)) as { url: string; keyIds: string[] };
      expect(printed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(printed).toMatchObject({ keyIds: ['new', 'old'], encryptKeyId: 'new' });
      expect(captured.stdout()).not.toContain(KEY);
      const [old] = await new EncryptionCodec(parsePayloadKeys(`old:${KEY}`)).encode([
        defaultPayloadConverter.toPayload(VALUE),
      ]);
      const res = await post(`${printed.url}/decode`, { payloads: [payloadToJSON(old!)] });
      expect(res.status).toBe(200);
    } finally {
      stop.abort();
    }
    expect(await running).toBe(0);
  });

  it('refuses to start without keys, or with bad keys or options, naming the problem (exit 2)', async () => {
    const none = await cli(['codec-server', '--port', '0'], {}, process.cwd());
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('DEDL_PAYLOAD_KEYS: required');
    const short = randomBytes(16).toString('base64');
    const bad = await cli(['codec-server', '--port', '0'], { DEDL_PAYLOAD_KEYS: `k:${short}` }, process.cwd());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the key of "k" is 16 bytes');
    expect(bad.stderr).not.toContain(short);
    const flags = await cli(['codec-server', '--port', 'x', '--cors-origin', 'localhost:8233/'], {}, process.cwd());
    expect(flags.code).toBe(2);
    expect(flags.stderr).toContain('--port: must be an integer');
    expect(flags.stderr).toContain('--cors-origin: "localhost:8233/" is not an origin');
    const weak = await cli(
      ['codec-server', '--port', '0'],
      { DEDL_PAYLOAD_KEYS: `k:${KEY}`, DEDL_CODEC_TOKEN: 'letmein' },
      process.cwd(),
    );
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('DEDL_CODEC_TOKEN: must be at least 16 characters without spaces');
    expect(weak.stderr).not.toContain('letmein');
  });

  it('with DEDL_CODEC_TOKEN, says a token is required without printing it', async () => {
    const token = randomBytes(24).toString('hex');
    const stop = new AbortController();
    const captured = captureIO({ DEDL_PAYLOAD_KEYS: `k:${KEY}`, DEDL_CODEC_TOKEN: token }, process.cwd(), {
      signal: stop.signal,
    });
    const running = runCli(['codec-server', '--port', '0'], captured.io);
    try {
      const printed = await captured.stdoutMatching(/Ctrl-C stops it\.\n$/);
      expect(printed).toContain('--codec-auth "Bearer $DEDL_CODEC_TOKEN"');
      expect(printed).not.toContain(token);
      const url = /Codec server at (\S+)/.exec(printed)![1]!;
      expect((await post(`${url}/encode`, { payloads: [] })).status).toBe(401);
    } finally {
      stop.abort();
    }
    expect(await running).toBe(0);
  });
});
