import { cachedTokenSource, jwtClaims, tokenExpiry } from '../../../src/hook/tokens';
import { formAction, inputError } from '../../../src/hook/desp-login';

function jwt(claims: Record<string, unknown>): string {
  return ['{"alg":"none"}', JSON.stringify(claims), ''].map((p) => Buffer.from(p).toString('base64url')).join('.');
}

describe('cachedTokenSource', () => {
  it('reuses a token until 60 s before it expires, then renews', async () => {
    let clock = 0;
    let issued = 0;
    const source = cachedTokenSource(async () => ({ accessToken: `t${++issued}`, expiresAt: clock + 300_000 }), {
      now: () => clock,
    });
    expect(await source.token()).toBe('t1');
    clock = 239_999;
    expect(await source.token()).toBe('t1');
    clock = 240_000;
    expect(await source.token()).toBe('t2');
  });

  it('renews a short-lived token halfway through its life, not at every call', async () => {
    let clock = 0;
    let issued = 0;
    const source = cachedTokenSource(async () => ({ accessToken: `t${++issued}`, expiresAt: clock + 60_000 }), {
      now: () => clock,
    });
    expect(await source.token()).toBe('t1');
    clock = 29_999;
    expect(await source.token()).toBe('t1');
    clock = 30_000;
    expect(await source.token()).toBe('t2');
    expect(issued).toBe(2);
  });

  it('shares one refresh between concurrent callers', async () => {
    let issued = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const source = cachedTokenSource(async () => {
      issued++;
      await gate;
      return { accessToken: 'shared', expiresAt: Date.now() + 600_000 };
    });
    const waiting = Promise.all([source.token(), source.token(), source.token()]);
    release();
    expect(await waiting).toEqual(['shared', 'shared', 'shared']);
    expect(issued).toBe(1);
  });

  it('goes on with a shared login when the caller that started it gives up', async () => {
    let issued = 0;
    let release!: () => void;
    const loginAnswered = new Promise<void>((resolve) => (release = resolve));
    const source = cachedTokenSource(async () => {
      issued++;
      await loginAnswered;
      return { accessToken: 'shared', expiresAt: Date.now() + 600_000 };
    });
    const starter = new AbortController();
    const first = source.token(starter.signal);
    const second = source.token();
    starter.abort(new Error('activity cancelled'));
    await expect(first).rejects.toThrow('activity cancelled');
    release();
    expect(await second).toBe('shared');
    expect(issued).toBe(1);
  });

  it('renews after invalidate (the 401 path)', async () => {
    let issued = 0;
    const source = cachedTokenSource(async () => ({ accessToken: `t${++issued}`, expiresAt: Date.now() + 600_000 }));
    const first = await source.token();
    source.invalidate(first);
    expect(await source.token()).toBe('t2');
  });

  it('a failed refresh does not poison the cache', async () => {
    let fail = true;
    const source = cachedTokenSource(async () => {
      if (fail) throw new Error('identity provider down');
      return { accessToken: 'ok', expiresAt: Date.now() + 600_000 };
    });
    await expect(source.token()).rejects.toThrow('identity provider down');
    fail = false;
    expect(await source.token()).toBe('ok');
  });
});

describe('token expiry', () => {
  it('prefers the JWT exp claim', () => {
    expect(tokenExpiry(jwt({ exp: 1_800_000_000 }), 60, 0)).toBe(1_800_000_000_000);
    expect(jwtClaims(jwt({ sub: 'demo' }))).toEqual({ sub: 'demo' });
  });
  it('falls back to expires_in for opaque tokens', () => {
    expect(tokenExpiry('opaque-token', 120, 1_000)).toBe(121_000);
  });
});

describe('Keycloak page scraping', () => {
  it('finds the login form action by id, entities decoded', () => {
    const html =
      '<form id="other" action="/x"></form><form onsubmit="x" action="https://auth.example/realms/desp/login-actions/authenticate?session_code=a&amp;execution=b" id="kc-form-login" method="post">';
    expect(formAction(html, 'kc-form-login')).toBe(
      'https://auth.example/realms/desp/login-actions/authenticate?session_code=a&execution=b',
    );
  });
  it('reads the input-error message', () => {
    expect(inputError('<span id="input-error" class="x">\n Invalid username or password. </span>')).toBe(
      'Invalid username or password.',
    );
  });
});
