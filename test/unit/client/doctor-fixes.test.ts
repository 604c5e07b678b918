/**
 * The fix doctor prints for each kind of failure it can meet, from the error classes the login,
 * Hook, S3 and Temporal clients throw: every one names what to change, never a value.
 */
import { HookAuthError, HookConnectionError, HookForbiddenError, HookResponseError } from '../../../src/hook/errors';
import { hookFailure, loginFailure, s3Failure } from '../../../src/client/doctor/fixes';

const IAM = 'https://auth.destine.eu';

describe('doctor fixes', () => {
  it.each([
    [
      new HookAuthError('DESP terms and conditions are not accepted for this account: accept them once in a browser'),
      `log in once in a browser at ${IAM} and accept the DESP terms and conditions`,
    ],
    [
      new HookAuthError('The DESP account asks for a one-time code, but no OTP secret is configured'),
      'the account has 2FA: set DESP_OTP_SECRET',
    ],
    [new HookAuthError('DESP one-time code refused: Invalid authenticator code.'), 'check DESP_OTP_SECRET'],
    [new HookAuthError('DESP login failed: Invalid username or password.'), 'check DESP_USERNAME/DESP_PASSWORD'],
    [
      new HookAuthError('The identity provider refused the token request', {
        method: 'POST',
        url: 'https://identity.data.destination-earth.eu/auth/realms/dedl/protocol/openid-connect/token',
        status: 400,
      }),
      'DEDL refused it: check that the account has Data Lake access',
    ],
    [
      new HookConnectionError('Connection to the Hook failed (ENOTFOUND)'),
      'check the network (a proxy?) and DESP_IAM_URL',
    ],
  ])('a DESP login that fails with %s', (err, fix) => {
    expect(loginFailure('desp', err, IAM).fix).toContain(fix);
  });

  it('points a refused service account at its id and secret', () => {
    const err = new HookAuthError('The identity provider refused the token request', { status: 401 });
    expect(loginFailure('client-credentials', err, IAM).fix).toContain('check DEDL_CLIENT_ID/DEDL_CLIENT_SECRET');
  });

  it('tells what a Hook refusal or an unreadable answer needs', () => {
    expect(
      hookFailure('desp', new HookForbiddenError('Hook refused access (HTTP 403)'), 'HOOK_ODATA_URL').fix,
    ).toContain('the account lacks the Hook roles (hook-workflows');
    expect(
      hookFailure('token', new HookAuthError('Hook rejected the credentials (HTTP 401)'), 'HOOK_ODATA_URL').fix,
    ).toContain('HOOK_TOKEN was refused');
    expect(
      hookFailure('desp', new HookResponseError('Hook answer does not have the expected shape'), 'HOOK_ODATA_URL').fix,
    ).toContain('dedl-harvest doctor --capture');
  });

  it('names the credential-set variable an S3 refusal is about', () => {
    const signature = Object.assign(new Error('The request signature we calculated does not match'), {
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    expect(s3Failure(signature, 'my-islet', 'https://s3.example', undefined)).toEqual({
      detail: 'SignatureDoesNotMatch (HTTP 403): The request signature we calculated does not match',
      fix: 'check DEDL_CREDENTIALS_MY_ISLET_SECRET_ACCESS_KEY (and DEDL_CREDENTIALS_MY_ISLET_REGION)',
    });
  });
});
