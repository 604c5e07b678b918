/** The options schema: defaults, refusals, and a description on every field (the CLI prints them). */
import { type z } from 'zod';
import { emulatorOptionsSchema, faultsSchema, startEmulator } from '../../src/emulator';
import { accountSchema, serviceAccountSchema, timingSchema } from '../../src/emulator/options';

describe('emulator options', () => {
  it('defaults to loopback, a free port, the demo account, 14-day links and no faults', () => {
    const o = emulatorOptionsSchema.parse({});
    expect(o).toMatchObject({
      host: '127.0.0.1',
      port: 0,
      includeDefaultAccount: true,
      tokenLifetimeSec: 300,
      timing: { queuedMs: 200, processingMs: 500 },
      productSize: 65536,
      linkLifetimeSec: 1_209_600,
      privateKeyTemplate: '{prefix}/{identifier}.zip',
      seed: 1,
    });
    expect(o.faults).toEqual(faultsSchema.parse({}));
    expect(o.faults.errorRate).toBe(0);
  });

  it('refuses unknown fields and out-of-range values', () => {
    expect(emulatorOptionsSchema.safeParse({ prot: 1 }).success).toBe(false);
    expect(emulatorOptionsSchema.safeParse({ faults: { errorRate: 1.5 } }).success).toBe(false);
    expect(
      emulatorOptionsSchema.safeParse({ accounts: [{ username: 'x', password: 'y', otpSecret: '!!' }] }).success,
    ).toBe(false);
  });

  it('refuses a product size below the smallest valid zip', async () => {
    await expect(startEmulator({ productSize: 100 })).rejects.toThrow(/productSize/);
  });

  it.each([
    ['emulator options', emulatorOptionsSchema],
    ['faults', faultsSchema],
    ['account', accountSchema],
    ['service account', serviceAccountSchema],
    ['timing', timingSchema],
  ])('describes every field of the %s schema', (_name, schema) => {
    const shape = (schema as unknown as z.ZodObject).shape;
    const undescribed = Object.entries(shape)
      .filter(([, field]) => !(field as z.ZodType).description)
      .map(([key]) => key);
    expect(undescribed).toEqual([]);
  });
});
