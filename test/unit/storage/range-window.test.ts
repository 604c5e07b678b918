/**
 * RangeWindow and rangesStoredIn, the pure parts of ranged delivery into S3: the bound on ranges
 * held in memory while the in-order verifier catches up, and which ranges a resumed attempt keeps
 * from the parts ListParts confirmed.
 */
import { RangeWindow } from '../../../src/storage/range-window';
import { rangesStoredIn } from '../../../src/storage/s3-ranged';
import { rangeSize } from '../../../src/activities/ranged-delivery';

const MIB = 1024 * 1024;

/** Whether `promise` has settled once pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
  return done;
}

describe('RangeWindow', () => {
  it('holds at most `limit` ranges while the verifier waits for the first one', async () => {
    const window = new RangeWindow(3);
    // A slow range 0: the others arrive first and fill the window.
    for (const i of [1, 2, 3]) await window.admit(i);
    const fourth = window.admit(4);
    expect(await settled(fourth)).toBe(false);
    expect(window.held).toBe(3);
    // Range 0, the one the verifier needs next, is admitted whatever the count (no deadlock).
    await window.admit(0);
    expect(window.held).toBe(4);
    expect(await settled(fourth)).toBe(false);
    // The verifier consumed 0 and 1 and their parts are stored: two slots free, range 4 goes on.
    window.advance(2);
    window.release(0);
    window.release(1);
    expect(await settled(fourth)).toBe(true);
    expect(window.held).toBe(3);
  });

  it('admits a range put back after a refusal without counting it twice', async () => {
    const window = new RangeWindow(2);
    await window.admit(1);
    await window.admit(2);
    expect(await settled(window.admit(2))).toBe(true);
    expect(window.held).toBe(2);
  });

  it('wakes the range the verifier needs before later ones', async () => {
    const window = new RangeWindow(1);
    await window.admit(2);
    const later = window.admit(3);
    const head = window.admit(1); // waits: the verifier is still at range 0
    expect(await settled(head)).toBe(false);
    window.advance(1);
    expect(await settled(head)).toBe(true);
    expect(await settled(later)).toBe(false);
  });

  it('stops waiting when the delivery is stopped', async () => {
    const window = new RangeWindow(1);
    await window.admit(1);
    const stop = new AbortController();
    const waiting = window.admit(2, stop.signal);
    stop.abort(new Error('range 0 failed'));
    await expect(waiting).rejects.toThrow('range 0 failed');
    window.release(1);
    expect(window.held).toBe(0); // the stopped range never took a slot
  });
});

describe('rangesStoredIn (resume planning)', () => {
  const map = { size: 23 * MIB, rangeBytes: 5 * MIB, done: '0-2,4' };
  const part = (index: number, size = 5 * MIB) => ({ PartNumber: index + 1, ETag: `"e${index}"`, size });

  it('keeps the ranges whose part is listed with its range size', () => {
    expect(rangesStoredIn(map, [part(0), part(1), part(2), part(4, 3 * MIB)]).done).toBe('0-2,4');
  });

  it('refetches a range whose part is missing, has the wrong size, or is not in the map', () => {
    // 1 missing (lost upload part), 2 short, 3 listed but never heartbeated as done, 4 full-size although it is the last range.
    expect(rangesStoredIn(map, [part(0), part(2, MIB), part(3), part(4)]).done).toBe('0');
    expect(rangesStoredIn(map, []).done).toBe('');
  });
});

describe('rangeSize with a target minimum', () => {
  it('never cuts ranges below S3’s 5 MiB part minimum', () => {
    expect(rangeSize(28 * MIB, 4, MIB, 5 * MIB)).toBe(5 * MIB);
    expect(rangeSize(undefined, 4, MIB, 5 * MIB)).toBe(5 * MIB);
    expect(rangeSize(1024 * MIB, 4, 8 * MIB, 5 * MIB)).toBe(8 * MIB);
    expect(rangeSize(28 * MIB, 4, MIB)).toBe(MIB); // a local file keeps its small ranges
  });
});
