import { redactText, redactUrl } from '../../../src/shared/redact';

describe('redactUrl', () => {
  it('masks signed-link parameters and keeps the rest readable', () => {
    const url =
      'https://s3.central.data.destination-earth.eu/swift/v1/tmp-storage/20240514_20001_Ab3dEf9H.zip?temp_url_sig=0123456789abcdef0123456789abcdef01234567&temp_url_expires=1716900798';
    const redacted = redactUrl(url);
    expect(redacted).not.toContain('0123456789abcdef');
    expect(redacted).toBe(
      'https://s3.central.data.destination-earth.eu/swift/v1/tmp-storage/20240514_20001_Ab3dEf9H.zip?temp_url_sig=***&temp_url_expires=1716900798',
    );
  });

  it('masks S3 presigned parameters and user-info', () => {
    const redacted = redactUrl(
      'https://user:pa55word@bucket.s3.example.eu/k?X-Amz-Signature=abc123&X-Amz-Credential=AKIA/x',
    );
    expect(redacted).not.toMatch(/pa55word|abc123|AKIA/);
  });
});

describe('redactText', () => {
  it('masks bearer tokens, JWTs, password pairs, signed URLs and known secrets', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJlLXZhbHVl';
    const text = [
      `Authorization: Bearer ${jwt}`,
      'password=hunter22&username=demo',
      '{"desp_source_password": "s3cr3t-value"}',
      'see https://x.eu/a.zip?temp_url_sig=deadbeefdeadbeef&temp_url_expires=1',
      'the key is my-known-secret-123',
    ].join('\n');
    const out = redactText(text, ['my-known-secret-123']);
    for (const secret of [jwt, 'hunter22', 's3cr3t-value', 'deadbeefdeadbeef', 'my-known-secret-123']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('username=demo');
  });

  it('leaves ordinary words alone', () => {
    const text = 'HTTP status code: 404; design: v2; tokens used=3 for S2A_MSIL1C_20230910T050701.SAFE';
    expect(redactText(text)).toBe(text);
  });
});
