/** RateMeter: bytes per second over its window, nothing before it has a second of samples. */
import { RATE_WINDOW_MS, RateMeter } from '../../../src/activities/rate-meter';

describe('RateMeter', () => {
  it('measures over the recent window and follows a change of pace', () => {
    let now = 0;
    const meter = new RateMeter(() => now);
    meter.record(0);
    now = 500;
    meter.record(1000);
    expect(meter.bytesPerSecond).toBeUndefined(); // less than a second of samples
    for (now = 1000; now <= 20_000; now += 1000) meter.record(now * 2); // 2000 B/s
    expect(meter.bytesPerSecond).toBe(2000);
    const base = 40_000;
    for (let t = 21_000; t <= 21_000 + RATE_WINDOW_MS + 1000; t += 1000) {
      now = t;
      meter.record(base + (t - 21_000) * 10); // then 10 000 B/s
    }
    expect(meter.bytesPerSecond).toBe(10_000);
  });
});
