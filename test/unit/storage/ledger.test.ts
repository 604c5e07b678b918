import { canonicalJson, optionsHash, productKeyId } from '../../../src/storage/ledger';

describe('optionsHash', () => {
  const options = { timespan: 24, output_storage: 'TEMPORARY', bbox: [1, 2, 3, 4], nested: { b: 1, a: [true, null] } };

  it('is stable across key order, nesting order and option list form', () => {
    const h = optionsHash(options);
    expect(h).toMatch(/^[0-9a-f]{32}$/);
    expect(
      optionsHash({ nested: { a: [true, null], b: 1 }, bbox: [1, 2, 3, 4], output_storage: 'TEMPORARY', timespan: 24 }),
    ).toBe(h);
    expect(
      optionsHash(
        Object.entries(options)
          .reverse()
          .map(([name, value]) => ({ name, value })),
      ),
    ).toBe(h);
    // A known value pins the canonical form, so a change in it cannot go unnoticed.
    expect(canonicalJson(options)).toBe(
      '{"bbox":[1,2,3,4],"nested":{"a":[true,null],"b":1},"output_storage":"TEMPORARY","timespan":24}',
    );
  });

  it('changes when a non-secret option changes', () => {
    expect(optionsHash({ ...options, timespan: 48 })).not.toBe(optionsHash(options));
    expect(optionsHash({ ...options, bbox: [1, 2, 4, 3] })).not.toBe(optionsHash(options));
  });

  it('never includes secret options: their values do not change the hash', () => {
    const h = optionsHash(options);
    const secrets = {
      desp_source_password: 'hunter2',
      output_s3_secret_key: 'wJalrXUtnFEMI',
      output_s3_access_key: 'AKIAEXAMPLE',
      source_client_secret: 's3cr3t',
      source_username: 'alice',
      desp_source_otp: '123456',
      api_token: 'eyJhbGciOi',
      hook_auth: 'Bearer x',
    };
    expect(optionsHash({ ...options, ...secrets })).toBe(h);
    expect(optionsHash({ ...options, ...Object.fromEntries(Object.keys(secrets).map((k) => [k, 'other'])) })).toBe(h);
    expect(optionsHash({ ...options, my_custom: 'x' }, { secretNames: ['MY_CUSTOM'] })).toBe(h);
    // Names that merely contain similar letters are kept.
    expect(optionsHash({ ...options, output_path: 'x' })).not.toBe(h);
    expect(optionsHash({ ...options, bypass_cache: true })).not.toBe(h);
  });

  it('rejects what it cannot hash faithfully', () => {
    expect(() => optionsHash({ a: Number.NaN })).toThrow('$.a is NaN, which JSON cannot represent');
    expect(() => optionsHash({ a: 1n })).toThrow('$.a is a bigint');
    expect(() =>
      optionsHash([
        { name: 'a', value: 1 },
        { name: 'a', value: 2 },
      ]),
    ).toThrow('option "a" is given twice');
  });
});

describe('productKeyId', () => {
  it('distinguishes every field and is not fooled by separators', () => {
    const a = productKeyId({ identifier: 'x', workflow: 'w', optionsHash: '0123456789abcdef' });
    expect(productKeyId({ identifier: 'x', workflow: 'w', optionsHash: '0123456789abcdef' })).toBe(a);
    expect(productKeyId({ identifier: 'x","w', workflow: '', optionsHash: '0123456789abcdef' })).not.toBe(a);
    expect(productKeyId({ identifier: 'x', workflow: 'w2', optionsHash: '0123456789abcdef' })).not.toBe(a);
  });
});
