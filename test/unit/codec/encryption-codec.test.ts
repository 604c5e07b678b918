/**
 * The AES-256-GCM payload codec on its own and inside the SDK's data converter: round trips,
 * key rotation, tampering, unknown key ids, failure messages, and no key material in any error.
 */
import { randomBytes } from 'node:crypto';
import { ApplicationFailure, type Payload, defaultPayloadConverter } from '@temporalio/common';
import {
  decodeFailure,
  decodeFromPayloadsAtIndex,
  encodeErrorToFailure,
  encodeToPayloads,
} from '@temporalio/common/lib/internal-non-workflow/codec-helpers';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/data-converter-helpers';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  EncryptedPayloadGuard,
  assertBundleEncryptsFailures,
  dataConverterFromEnv,
} from '../../../src/codec/data-converter';
import { ENCRYPTED_FAILURES_MARKER } from '../../../src/codec/failure-converter';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadDecryptionError,
} from '../../../src/codec/encryption-codec';
import { parsePayloadKeys } from '../../../src/codec/payload-keys';

const OLD = randomBytes(32).toString('base64');
const NEW = randomBytes(32).toString('base64');
const VALUE = { name: 'campaign Gotland-2024', identifiers: ['S2B_MSIL1C_20240101T000000'] };

const codecWith = (keys: string) => new EncryptionCodec(parsePayloadKeys(keys));
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const plain = (): Payload => defaultPayloadConverter.toPayload(VALUE);

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('EncryptionCodec', () => {
  it('round-trips a payload whose stored form shows nothing of it', async () => {
    const codec = codecWith(`k1:${OLD}`);
    const [encrypted] = await codec.encode([plain()]);
    expect(text(encrypted!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(encrypted!.metadata!)).toEqual(['encoding', KEY_ID_METADATA]); // not even json/plain
    expect(text(encrypted!.data)).not.toContain('Gotland');
    const [decoded] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(VALUE);
    expect(text(decoded!.metadata!.encoding)).toBe('json/plain');
  });

  it('uses a fresh IV for every payload', async () => {
    const codec = codecWith(`k1:${OLD}`);
    const [a, b] = await codec.encode([plain(), plain()]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
    expect(Buffer.from(a!.data!.subarray(0, 12)).equals(Buffer.from(b!.data!.subarray(0, 12)))).toBe(false);
  });

  it('decodes data encrypted with the old key once a new key is put first, and encrypts with the new one', async () => {
    const [old] = await codecWith(`k1:${OLD}`).encode([plain()]);
    const rotated = codecWith(`k2:${NEW},k1:${OLD}`);
    const [decoded] = await rotated.decode([old!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(VALUE);
    const [fresh] = await rotated.encode([plain()]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
  });

  it('passes payloads that are not encrypted through (history from before encryption)', async () => {
    const payload = plain();
    expect(await codecWith(`k1:${OLD}`).decode([payload])).toEqual([payload]);
  });

  it.each([
    ['a flipped ciphertext byte', (data: Buffer) => data.writeUInt8(data.readUInt8(20) ^ 1, 20)],
    ['a flipped tag byte', (data: Buffer) => data.writeUInt8(data.readUInt8(data.length - 1) ^ 1, data.length - 1)],
    ['a flipped IV byte', (data: Buffer) => data.writeUInt8(data.readUInt8(0) ^ 1, 0)],
  ])('rejects %s', async (_label, tamper) => {
    const codec = codecWith(`k1:${OLD}`);
    const [encrypted] = await codec.encode([plain()]);
    const data = Buffer.from(encrypted!.data!);
    tamper(data);
    const err = await rejection(codec.decode([{ ...encrypted!, data }]));
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect(err.message).toMatch(/key id "k1": authentication failed/);
  });

  it('rejects a payload relabelled with another listed key id', async () => {
    const codec = codecWith(`k1:${OLD},k2:${NEW}`);
    const [encrypted] = await codec.encode([plain()]);
    const relabelled = { ...encrypted!, metadata: { ...encrypted!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/key id "k2": authentication failed/);
  });

  it('names an unknown key id and the known ones, never a key', async () => {
    const [encrypted] = await codecWith(`retired:${OLD}`).encode([plain()]);
    const err = await rejection(codecWith(`k2:${NEW}`).decode([encrypted!]));
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect(err.message).toMatch(
      /encrypted with key id "retired": that key id is not in DEDL_PAYLOAD_KEYS \(it has "k2"\)/,
    );
    for (const key of [OLD, NEW]) {
      expect(err.message).not.toContain(key);
      expect(err.message).not.toContain(Buffer.from(key, 'base64').toString('hex'));
    }
  });
});

describe('the encrypting data converter', () => {
  const converter = loadDataConverter(dataConverterFromEnv({ DEDL_PAYLOAD_KEYS: `k1:${OLD}` }));

  it('is off without keys', () => {
    expect(dataConverterFromEnv({})).toBeUndefined();
  });

  it('encrypts values end to end through the SDK helpers', async () => {
    const payloads = await encodeToPayloads(converter, VALUE);
    expect(text(payloads![0]!.data)).not.toContain('Gotland');
    expect(await decodeFromPayloadsAtIndex(converter, 0, payloads)).toEqual(VALUE);
  });

  it('moves failure messages and stacks into encrypted attributes', async () => {
    const error = ApplicationFailure.nonRetryable('login refused for source-user at Gotland', 'LoginRefused');
    const failure = await encodeErrorToFailure(converter, error);
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    expect(JSON.stringify(failure)).not.toContain('Gotland');
    expect(text(failure.encodedAttributes!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    const restored = converter.failureConverter.failureToError(
      await decodeFailure(converter.payloadCodecs, failure),
      converter.payloadConverter,
    );
    expect(restored.message).toBe('login refused for source-user at Gotland');
    expect((restored as ApplicationFailure).type).toBe('LoginRefused');
  });
});

describe('assertBundleEncryptsFailures', () => {
  it('accepts a bundle with the encrypting failure converter and refuses one without, naming the file', async () => {
    await expect(
      assertBundleEncryptsFailures({ code: `var m = "${ENCRYPTED_FAILURES_MARKER}";` }),
    ).resolves.toBeUndefined();
    await expect(assertBundleEncryptsFailures({ code: 'var m = 1;' })).rejects.toThrow(/built without/);
    const dir = await mkdtemp(path.join(tmpdir(), 'dedl-bundle-'));
    try {
      const codePath = path.join(dir, 'workflow-bundle.js');
      await writeFile(codePath, 'var plain = 1;');
      const err = await rejection(assertBundleEncryptsFailures({ codePath }));
      expect((err as { problems?: string[] }).problems?.[0]).toMatch(
        /^DEDL_PAYLOAD_KEYS: the workflow bundle .*workflow-bundle\.js was built without the encrypting failure converter/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('EncryptedPayloadGuard (a client without keys)', () => {
  it('says the data is encrypted and what to set, and lets plain payloads through', async () => {
    const [encrypted] = await codecWith(`k7:${OLD}`).encode([plain()]);
    const guard = new EncryptedPayloadGuard();
    await expect(guard.decode([encrypted!])).rejects.toThrow(
      'this data is encrypted (key id "k7"); set DEDL_PAYLOAD_KEYS to the worker\'s keys to read it',
    );
    expect(await guard.decode([plain()])).toEqual([plain()]);
  });
});
