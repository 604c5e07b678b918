/** DEDL_PAYLOAD_KEYS: parsed into a key ring, every problem named without repeating a key. */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../../src/config/worker-config';
import { parsePayloadKeys, payloadKeysFromEnv } from '../../../src/codec/payload-keys';

const key = (bytes = 32) => randomBytes(bytes).toString('base64');

function problemsOf(value: string): string[] {
  try {
    parsePayloadKeys(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parsePayloadKeys', () => {
  it('encrypts with the first key and knows every listed key', () => {
    const [k1, k2] = [key(), key()];
    const ring = parsePayloadKeys(`2025-06:${k2}, 2024-01:${k1}`);
    expect(ring.encryptKeyId).toBe('2025-06');
    expect(ring.keyIds).toEqual(['2025-06', '2024-01']);
    expect(ring.key('2024-01')).toEqual(Buffer.from(k1, 'base64'));
    expect(ring.key('other')).toBeUndefined();
  });

  it('names the key id and size of a key that is not 32 bytes, never the key', () => {
    const short = key(16);
    const problems = problemsOf(`main:${short}`);
    expect(problems).toEqual([
      expect.stringMatching(/^DEDL_PAYLOAD_KEYS: the key of "main" is 16 bytes; AES-256 needs 32/),
    ]);
    expect(problems.join('\n')).not.toContain(short);
  });

  it('refuses bad base64, a duplicate id, a bad id and a missing colon, all at once', () => {
    const good = key();
    const badBase64 = `${good.slice(0, 20)}*${good.slice(21)}`;
    const problems = problemsOf(`a:${good},b:${badBase64},a:${key()},bad id:${key()},${good}`);
    expect(problems).toEqual([
      'DEDL_PAYLOAD_KEYS: the key of "b" is not valid base64',
      'DEDL_PAYLOAD_KEYS: key id "a" is listed twice',
      "DEDL_PAYLOAD_KEYS (entry 4): the key id must be 1 to 64 letters, digits, '.', '_' or '-'",
      'DEDL_PAYLOAD_KEYS (entry 5): must be keyId:base64key',
    ]);
    const text = problems.join('\n');
    for (const secret of [good, badBase64]) expect(text).not.toContain(secret);
  });

  it('treats an unset or empty variable as encryption off', () => {
    expect(payloadKeysFromEnv({})).toBeUndefined();
    expect(payloadKeysFromEnv({ DEDL_PAYLOAD_KEYS: '' })).toBeUndefined();
    expect(payloadKeysFromEnv({ DEDL_PAYLOAD_KEYS: `k:${key()}` })?.encryptKeyId).toBe('k');
  });
});
