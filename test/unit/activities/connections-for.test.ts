/**
 * connectionsFor: how many ranged connections a delivery may open — the request's choice, else the
 * worker's default for products big enough to gain from parallel ranges, else one stream.
 */
import { connectionsFor } from '../../../src/activities/delivery-activities';
import { loadWorkerConfig } from '../../../src/config/worker-config';

const MIB = 1024 * 1024;
const worker = { perProduct: 4, minRangedBytes: 128 * MIB };
const login = { DESP_USERNAME: 'u', DESP_PASSWORD: 'p' };

describe('connectionsFor', () => {
  it("takes the request's connectionsPerProduct whatever the product's size", () => {
    expect(connectionsFor(1, 700 * MIB, worker)).toBe(1);
    expect(connectionsFor(8, 1 * MIB, worker)).toBe(8);
  });

  it("gives products of at least the floor the worker's default, smaller or unsized ones one stream", () => {
    expect(connectionsFor(undefined, 780 * MIB, worker)).toBe(4);
    expect(connectionsFor(undefined, 128 * MIB, worker)).toBe(4);
    expect(connectionsFor(undefined, 128 * MIB - 1, worker)).toBe(1);
    expect(connectionsFor(undefined, undefined, worker)).toBe(1);
  });

  it('defaults a worker to up to 4 adaptive connections for products of 128 MiB and more', () => {
    const { env } = loadWorkerConfig(login);
    expect(env.DEDL_CONNECTIONS_PER_PRODUCT).toBe(4);
    expect(env.DEDL_RANGED_MIN_BYTES).toBe(128 * MIB);
    const one = loadWorkerConfig({ ...login, DEDL_CONNECTIONS_PER_PRODUCT: '1' }).env.DEDL_CONNECTIONS_PER_PRODUCT;
    expect(connectionsFor(undefined, 780 * MIB, { perProduct: one, minRangedBytes: 128 * MIB })).toBe(1);
  });
});
