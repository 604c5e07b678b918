import {
  HookAuthError,
  HookConnectionError,
  HookForbiddenError,
  HookRateLimitError,
  HookRequestError,
  HookServerError,
  hookErrorFromStatus,
  parseRetryAfter,
  toHookError,
} from '../../../src/hook/errors';

describe('hookErrorFromStatus', () => {
  it.each([
    [400, HookRequestError, false],
    [404, HookRequestError, false],
    [422, HookRequestError, false],
    [401, HookAuthError, false],
    [403, HookForbiddenError, false],
    [429, HookRateLimitError, true],
    [500, HookServerError, true],
    [502, HookServerError, true],
    [503, HookServerError, true],
  ])('classifies HTTP %i', (status, type, retryable) => {
    const err = hookErrorFromStatus(status, { method: 'GET', url: 'https://odp.example/odata/v1/Workflows' });
    expect(err).toBeInstanceOf(type);
    expect(err.retryable).toBe(retryable);
    expect(err.status).toBe(status);
    expect(err.name).toBe(type.name);
  });

  it('treats a 503 with Retry-After as a rate limit carrying the delay', () => {
    const err = hookErrorFromStatus(503, {}, 120_000);
    expect(err).toBeInstanceOf(HookRateLimitError);
    expect((err as HookRateLimitError).retryAfterMs).toBe(120_000);
  });

  it('puts the server detail in the message, without secrets', () => {
    const err = hookErrorFromStatus(422, {
      method: 'POST',
      url: 'https://odp.example/odata/v1/BatchOrder/OData.CSC.Order?token=abc',
      detail: 'option desp_source_password=topsecret is not allowed',
    });
    expect(err.message).toContain('HTTP 422');
    expect(err.message).toContain('is not allowed');
    expect(err.message).not.toContain('topsecret');
    expect(err.message).not.toContain('token=abc');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  it('reads delta seconds', () => expect(parseRetryAfter('7', now)).toBe(7000));
  it('reads an HTTP date', () => expect(parseRetryAfter('Fri, 27 Nov 2026 12:00:30 GMT', now)).toBe(30_000));
  it('never goes negative', () => expect(parseRetryAfter('Fri, 27 Nov 2026 11:00:00 GMT', now)).toBe(0));
  it('ignores junk', () => expect(parseRetryAfter('soon', now)).toBeUndefined());
  it('ignores absence', () => expect(parseRetryAfter(undefined, now)).toBeUndefined());
});

describe('toHookError', () => {
  it('turns socket failures into a retryable connection error naming the code', () => {
    const err = toHookError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), {
      method: 'GET',
      url: 'https://x/a?temp_url_sig=zzzzzz',
    });
    expect(err).toBeInstanceOf(HookConnectionError);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('UND_ERR_SOCKET');
    expect(err.message).not.toContain('zzzzzz');
  });
});
