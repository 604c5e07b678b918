import { createHmac } from 'node:crypto';
import { signTempUrl, tempObjectName, verifyTempUrl } from '../../src/emulator/temp-url';

const KEY = 'swift-temp-url-key';
const PATH = '/swift/v1/tmp-storage/20240514_20001_Ab3dEf9H.zip';
const EXPIRES = 1_716_899_598; // 2024-05-28T12:33:18Z, completion + 14 days

function signed(): { sig: string; expires: string } {
  const url = new URL(
    signTempUrl({ baseUrl: 'http://127.0.0.1:8080/', objectPath: PATH, expiresAt: EXPIRES, key: KEY }),
  );
  return { sig: url.searchParams.get('temp_url_sig')!, expires: url.searchParams.get('temp_url_expires')! };
}

function flipFirstHexDigit(sig: string): string {
  return (sig[0] === '0' ? '1' : '0') + sig.slice(1);
}

describe('signTempUrl', () => {
  it('builds a Swift TempURL: HMAC-SHA1 of "GET\\n<expires>\\n<path>" as 40 hex characters', () => {
    const url = signTempUrl({ baseUrl: 'http://127.0.0.1:8080/', objectPath: PATH, expiresAt: EXPIRES, key: KEY });
    const expected = createHmac('sha1', KEY).update(`GET\n${EXPIRES}\n${PATH}`).digest('hex');
    expect(url).toBe(`http://127.0.0.1:8080${PATH}?temp_url_sig=${expected}&temp_url_expires=${EXPIRES}`);
    expect(expected).toMatch(/^[0-9a-f]{40}$/);
  });

  it('rejects a relative object path and a non-integer expiry', () => {
    expect(() => signTempUrl({ baseUrl: 'http://h', objectPath: 'x.zip', expiresAt: EXPIRES, key: KEY })).toThrow(
      RangeError,
    );
    expect(() => signTempUrl({ baseUrl: 'http://h', objectPath: PATH, expiresAt: 1.5, key: KEY })).toThrow(RangeError);
  });
});

describe('verifyTempUrl', () => {
  const base = { method: 'GET', objectPath: PATH, key: KEY, nowSec: EXPIRES - 100 };

  it('accepts its own GET link until and including the expiry second', () => {
    const { sig, expires } = signed();
    expect(verifyTempUrl({ ...base, sig, expires })).toBe('ok');
    expect(verifyTempUrl({ ...base, sig, expires, nowSec: EXPIRES })).toBe('ok');
    expect(verifyTempUrl({ ...base, sig, expires, nowSec: EXPIRES + 1 })).toBe('expired');
  });

  it('allows HEAD with a GET signature, as Swift does, but not GET with a HEAD or PUT signature', () => {
    const { sig, expires } = signed();
    expect(verifyTempUrl({ ...base, method: 'HEAD', sig, expires })).toBe('ok');
    expect(verifyTempUrl({ ...base, method: 'PUT', sig, expires })).toBe('invalid');
    const headSig = createHmac('sha1', KEY).update(`HEAD\n${EXPIRES}\n${PATH}`).digest('hex');
    expect(verifyTempUrl({ ...base, sig: headSig, expires })).toBe('invalid');
    expect(verifyTempUrl({ ...base, method: 'HEAD', sig: headSig, expires })).toBe('ok');
  });

  it.each([
    ['another object', { objectPath: PATH.replace('20001', '20002') }],
    ['a later expiry', { expires: String(EXPIRES + 86_400) }],
    ['an altered signature', { sig: flipFirstHexDigit(signed().sig) }],
    ['another key', { key: 'other-key' }],
    ['no signature', { sig: null }],
    ['no expiry', { expires: null }],
    ['a non-numeric expiry', { expires: '2024-05-28' }],
    ['a truncated signature', { sig: signed().sig.slice(0, 39) }],
    ['an upper-case signature', { sig: signed().sig.toUpperCase() }],
  ])('refuses a link with %s as invalid', (_what, change) => {
    expect(verifyTempUrl({ ...base, ...signed(), ...change })).toBe('invalid');
  });

  it('says invalid rather than expired for a forged link past its expiry', () => {
    expect(verifyTempUrl({ ...base, ...signed(), key: 'other-key', nowSec: EXPIRES + 10 })).toBe('invalid');
  });

  it('also accepts SHA-256 signatures, as current Swift does', () => {
    const sig = createHmac('sha256', KEY).update(`GET\n${EXPIRES}\n${PATH}`).digest('hex');
    expect(verifyTempUrl({ ...base, sig, expires: String(EXPIRES) })).toBe('ok');
  });
});

describe('tempObjectName', () => {
  it('names the object <YYYYMMDD>_<itemId>_<8 alphanumerics>.zip, dated in UTC', () => {
    const values = [0, 0.999999, 0.5, 0.1, 0.25, 0.75, 0.42, 0.9];
    let i = 0;
    const name = tempObjectName({
      completedAt: new Date('2024-05-14T23:59:59.999Z'),
      itemId: 20001,
      random: () => values[i++ % values.length]!,
    });
    expect(name).toMatch(/^20240514_20001_[A-Za-z0-9]{8}\.zip$/);
    expect(name.slice(15, 17)).toBe('A9'); // the first and last characters of the alphabet
  });

  it('stays within the alphabet even if random() returns 1', () => {
    expect(tempObjectName({ completedAt: new Date(0), itemId: 7, random: () => 1 })).toBe('19700101_7_99999999.zip');
  });
});
