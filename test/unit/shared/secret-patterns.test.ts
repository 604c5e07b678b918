/**
 * The one definition of secret names (src/shared/secret-patterns.ts), on the data-harvest options
 * the real Hook lists (test/fixtures/real/hook-workflows-*.json): credentials and identities are
 * secret, everything that shapes the product is not.
 */
import { JWT, isSecretName } from '../../../src/shared/secret-patterns';

describe('isSecretName', () => {
  it.each([
    'desp_source_password',
    'desp_source_username',
    'source_password',
    'source_username',
    'source_client_id',
    'source_client_secret',
    'output_s3_access_key',
    'output_s3_secret_key',
    'encryption_key',
    'api-key',
  ])('%s is secret', (name) => {
    expect(isSecretName(name)).toBe(true);
  });

  it.each([
    'output_s3_path',
    'output_s3_endpoint_url',
    'output_storage',
    'source_type',
    'desp_source_collection',
    'source_catalogue_api_url',
    'source_catalogue_collection',
    'keyword',
  ])('%s is not', (name) => {
    expect(isSecretName(name)).toBe(false);
  });
});

describe('JWT', () => {
  it('finds a token in text and keeps no state between tests', () => {
    const text = 'Authorization failed for eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl';
    expect(JWT.test(text)).toBe(true);
    expect(JWT.test(text)).toBe(true);
    expect(JWT.test('eyJ alone is no token')).toBe(false);
  });
});
