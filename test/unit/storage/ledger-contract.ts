/* eslint-disable jest/no-standalone-expect -- these checks run inside it.each() in ledger-file.test.ts and ledger-s3.test.ts */
/**
 * What every ledger store must do, run against the file store (unit) and the S3 store on
 * versitygw (integration). Two writers are two independent store instances (two S3 clients for
 * S3) writing at the same time, as two workers would.
 */
import { createHash } from 'node:crypto';
import {
  type Ledger,
  type LedgerRecord,
  type ProductKey,
  optionsHash,
  productKeyId,
} from '../../../src/storage/ledger';

export const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

export const key = (identifier: string, options: Record<string, unknown> = { timespan: 24 }): ProductKey => ({
  identifier,
  workflow: 'data-harvest',
  optionsHash: optionsHash(options),
});

export const recordOf = (
  productKey: ProductKey,
  location: string,
  verifiedAt: string,
  extra: Partial<LedgerRecord> = {},
): LedgerRecord => ({
  ...productKey,
  location,
  size: 1000,
  sha256: sha(`${productKeyId(productKey)} ${location}`),
  verifiedAt,
  orderId: '42',
  ...extra,
});

/** Two instances of one store (two workers), and a way to count what is stored. */
export interface LedgerContext {
  ledger: Ledger;
  second: Ledger;
  storedObjects: () => Promise<string[]>;
}

/**
 * The contract as named checks; a test file runs each against a fresh store:
 * `it.each(Object.entries(LEDGER_CONTRACT))('%s', (_name, assertContract) => assertContract(context))`.
 */
export const LEDGER_CONTRACT: Record<string, (context: LedgerContext) => Promise<void>> = {
  'sets a product aside until a newer verified copy, without it counting as verified': async ({ ledger, second }) => {
    const k = key('S2A_MSIL1C_Q.SAFE');
    const other = key('S2A_MSIL1C_R.SAFE');
    const note = {
      ...k,
      reason: 'corrupt zip at byte 9: CRC-32 mismatch',
      at: '2026-02-01T00:00:00.000Z',
      orderId: '7',
    };
    await ledger.quarantine(note);
    await second.quarantine(note); // the same note twice (a retried activity) is one
    expect(await ledger.lookup(k)).toEqual([]);
    const found = await second.quarantinedMany([k, other]);
    expect([...found.entries()]).toEqual([[productKeyId(k), note]]);
    // An older verified copy does not lift it; a newer one does.
    await ledger.record(recordOf(k, '/data/q.zip', '2026-01-01T00:00:00.000Z'));
    expect((await ledger.quarantinedMany([k])).size).toBe(1);
    await ledger.record(recordOf(k, '/data/q.zip', '2026-03-01T00:00:00.000Z'));
    expect((await ledger.quarantinedMany([k])).size).toBe(0);
    expect((await ledger.lookup(k)).map((r) => r.verifiedAt)).toEqual(['2026-03-01T00:00:00.000Z']);
  },

  'returns what was recorded, newest first and one per location': async ({ ledger, second }) => {
    const k = key('S2A_MSIL1C_A.SAFE');
    await ledger.record(recordOf(k, 's3://bucket/harvest/a.zip', '2026-01-01T00:00:00.000Z'));
    await ledger.record(recordOf(k, 's3://bucket/harvest/a.zip', '2026-03-01T00:00:00.000Z', { orderId: '43' }));
    await ledger.record(recordOf(k, '/data/harvest/a.zip', '2026-02-01T00:00:00.000Z', { orderId: null }));
    const found = await ledger.lookup(k);
    expect(found.map((r) => [r.location, r.verifiedAt, r.orderId])).toEqual([
      ['s3://bucket/harvest/a.zip', '2026-03-01T00:00:00.000Z', '43'],
      ['/data/harvest/a.zip', '2026-02-01T00:00:00.000Z', null],
    ]);
    // Another instance (another worker) sees the same.
    expect(await second.lookup(k)).toEqual(found);
  },
  'keeps products apart by identifier, workflow and options hash': async ({ ledger }) => {
    const base = key('S1A_IW_GRDH_B');
    await ledger.record(recordOf(base, '/data/b.zip', '2026-01-01T00:00:00Z'));
    expect(await ledger.lookup({ ...base, workflow: 'sen2cor_private' })).toEqual([]);
    expect(await ledger.lookup(key('S1A_IW_GRDH_B', { timespan: 48 }))).toEqual([]);
    expect(await ledger.lookup(key('S1A_IW_GRDH_B2'))).toEqual([]);
    expect(await ledger.lookup(base)).toHaveLength(1);
  },
  'is idempotent: recording the same record again stores it once': async ({ ledger, second, storedObjects }) => {
    const k = key('S3A_OL_C');
    const record = recordOf(k, '/data/c.zip', '2026-01-01T00:00:00Z');
    const before = (await storedObjects()).length;
    await ledger.record(record);
    await ledger.record(record);
    await second.record(record);
    expect((await storedObjects()).length).toBe(before + 1);
    expect(await ledger.lookup(k)).toEqual([record]);
  },
  'looks up many products at once, with an entry for every key': async ({ ledger, second }) => {
    const keys = Array.from({ length: 40 }, (_, i) => key(`S2B_MANY_${i}`));
    await Promise.all(
      keys
        .filter((_, i) => i % 3 === 0)
        .map((k) => ledger.record(recordOf(k, `/data/${k.identifier}.zip`, '2026-05-05T05:05:05Z'))),
    );
    const result = await second.lookupMany([...keys, keys[0]!]);
    expect(result.size).toBe(40);
    keys.forEach((k, i) => {
      expect(result.get(productKeyId(k))?.map((r) => r.location)).toEqual(
        i % 3 === 0 ? [`/data/${k.identifier}.zip`] : [],
      );
    });
  },
  'loses nothing when two writers record the same products at the same time': async ({ ledger, second }) => {
    const keys = Array.from({ length: 25 }, (_, i) => key(`S2A_RACE_${i}`));
    const times = ['2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z', '2026-06-03T00:00:00Z'];
    // Each writer records each product at its own location, three times (re-verifications),
    // and both also race on identical records for a shared location.
    const writes: Promise<void>[] = [];
    for (const k of keys) {
      for (const at of times) {
        writes.push(ledger.record(recordOf(k, `s3://one/${k.identifier}.zip`, at)));
        writes.push(second.record(recordOf(k, `s3://two/${k.identifier}.zip`, at)));
        writes.push(ledger.record(recordOf(k, `/shared/${k.identifier}.zip`, at)));
        writes.push(second.record(recordOf(k, `/shared/${k.identifier}.zip`, at)));
      }
    }
    await Promise.all(writes);
    const result = await ledger.lookupMany(keys);
    for (const k of keys) {
      const records = result.get(productKeyId(k))!;
      expect(records.map((r) => r.location).sort()).toEqual(
        [`/shared/${k.identifier}.zip`, `s3://one/${k.identifier}.zip`, `s3://two/${k.identifier}.zip`].sort(),
      );
      expect(records.every((r) => r.verifiedAt === '2026-06-03T00:00:00Z')).toBe(true);
    }
  },
  'rejects records that would be wrong to store': async ({ ledger }) => {
    const k = key('S2A_BAD');
    await expect(
      ledger.record(recordOf(k, 'https://host/x.zip?temp_url_sig=abc&temp_url_expires=1', '2026-01-01T00:00:00Z')),
    ).rejects.toThrow('location: location must not carry a query string (signed URLs are credentials)');
    await expect(ledger.record(recordOf(k, '/x', '2026-01-01T00:00:00Z', { sha256: 'abc' }))).rejects.toThrow(
      'sha256: sha256 must be 64 lowercase hex digits',
    );
    await expect(ledger.record(recordOf(k, '/x', 'yesterday'))).rejects.toThrow('verifiedAt');
    expect(await ledger.lookup(k)).toEqual([]);
  },
};
