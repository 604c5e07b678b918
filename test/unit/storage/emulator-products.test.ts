/** The emulator's deterministic products must pass the same checks as real ones. */
import { MIN_PRODUCT_SIZE, createProductStream, productDigest } from '../../../src/emulator/product';
import { ProductVerifier } from '../../../src/storage/integrity';

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

  it('a ZIP64 product over 4 GiB passes in bounded memory', async () => {
    const size = 2 ** 32 + 4096;
    const spec = { identifier: 'S3B_OL_1_EFR_ZIP64.SEN3', size };
    const verifier = new ProductVerifier({ contentLength: size });
    const startRss = process.memoryUsage().rss;
    let peakRss = startRss;
    for await (const chunk of createProductStream(spec)) {
      await verifier.write(chunk as Buffer);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const record = await verifier.finish();
    expect(record.size).toBe(size);
    expect(record.checks.find((c) => c.name === 'zip-central-directory')?.detail).toContain('(ZIP64)');
    // 4 GiB went through; memory grew by at most a few dozen chunks' worth of garbage.
    expect(peakRss - startRss).toBeLessThan(128 * 1024 * 1024);
  }, 120_000);
});
