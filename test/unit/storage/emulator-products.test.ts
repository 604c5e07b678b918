/** The emulator's deterministic products must pass the same checks as real ones. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MIN_PRODUCT_SIZE, createProductStream, productDigest } from '../../../src/emulator/product';
import { ProductVerifier } from '../../../src/storage/integrity';

// `gc` exists only in contexts created after --expose-gc is set, so it is taken from a new one.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('emulator products through the product verifier', () => {
  it.each([MIN_PRODUCT_SIZE, 100_000, 3 * 1024 * 1024 + 17])(
    'a %i-byte product passes with its sha256',
    async (size) => {
      const spec = { identifier: `S2A_MSIL1C_20230910T050701_N0509_R033_T44RQN_${size}.SAFE`, size };
      const verifier = new ProductVerifier({ contentLength: size, processedSize: size, minSize: MIN_PRODUCT_SIZE });
      for await (const chunk of createProductStream(spec)) await verifier.write(chunk as Buffer);
      const record = await verifier.finish();
      expect(record).toMatchObject({ size, sha256: (await productDigest(spec)).sha256 });
      expect(record.zipEntries).toBeGreaterThanOrEqual(2);
    },
  );

  it('a product cut short is rejected', async () => {
    const spec = { identifier: 'S1A_IW_GRDH_1SDV_cut', size: 200_000 };
    const verifier = new ProductVerifier({ processedSize: spec.size });
    for await (const chunk of createProductStream(spec, { start: 0, end: 150_000 }))
      await verifier.write(chunk as Buffer);
    await expect(verifier.finish()).rejects.toThrow(
      'body is truncated: expected 200000 bytes (ProcessedSize), received 150001',
    );
  });

  it('a ZIP64 product over 4 GiB passes without retaining its chunks', async () => {
    const size = 2 ** 32 + 4096;
    const spec = { identifier: 'S3B_OL_1_EFR_ZIP64.SEN3', size };
    const verifier = new ProductVerifier({ contentLength: size });
    const start = await retainedMemory();
    const peakGrowth = { heapUsed: 0, arrayBuffers: 0 };
    let chunks = 0;
    for await (const chunk of createProductStream(spec)) {
      await verifier.write(chunk as Buffer);
      // Every 512 MiB: what is still referenced after a full collection. A leak adds up, so eight
      // looks find it; a look every 64 MiB (128 full collections) made the test 3-4 times slower
      // and pushed it past its budget in a CI run beside another one.
      if (++chunks % 2048 === 0) {
        const now = await retainedMemory();
        peakGrowth.heapUsed = Math.max(peakGrowth.heapUsed, now.heapUsed - start.heapUsed);
        peakGrowth.arrayBuffers = Math.max(peakGrowth.arrayBuffers, now.arrayBuffers - start.arrayBuffers);
      }
    }
    const record = await verifier.finish();
    expect(record.size).toBe(size);
    expect(record.checks.find((c) => c.name === 'zip-central-directory')?.detail).toContain('(ZIP64)');
    expect(chunks).toBeGreaterThan(16_000);
    // 4 GiB went through in 256 KiB chunks; what stays referenced is a chunk or two, the hash and
    // the entry summaries (about 2 MiB on Node 20 and 24). Keeping 1 chunk in 500 would hold 8 MiB.
    expect(peakGrowth.arrayBuffers).toBeLessThan(8 * 1024 * 1024);
    expect(peakGrowth.heapUsed).toBeLessThan(8 * 1024 * 1024);
  }, 120_000);
});

/**
 * JS heap and Buffer memory still referenced: measured after a full collection (twice, with a
 * turn of the event loop each, because V8 frees dead ArrayBuffers' memory in a task after the
 * collection). Without it the figure is mostly chunks already dropped but not yet collected, and
 * how long those wait is V8's choice: Node 24's V8 lets up to ~110 MiB of them pile up, Node 20's ~60.
 */
async function retainedMemory(): Promise<{ heapUsed: number; arrayBuffers: number }> {
  for (let i = 0; i < 2; i++) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heapUsed, arrayBuffers };
}
