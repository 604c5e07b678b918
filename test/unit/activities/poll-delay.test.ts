import { nextPollDelay } from '../../../src/activities/hook-activities';

const polling = { initialIntervalMs: 15_000, maxIntervalMs: 600_000, backoff: 1.6 };

describe('nextPollDelay', () => {
  it('grows by the backoff factor from the initial interval', () => {
    const middle = () => 0.5; // no jitter
    expect(nextPollDelay(1, polling, middle)).toBe(15_000);
    expect(nextPollDelay(2, polling, middle)).toBe(24_000);
    expect(nextPollDelay(3, polling, middle)).toBe(38_400);
  });

  it('jitters by ±20 %', () => {
    expect(nextPollDelay(1, polling, () => 0)).toBe(12_000);
    expect(nextPollDelay(1, polling, () => 0.999_999)).toBeCloseTo(18_000, -1);
  });

  it('never waits longer than maxInterval, jitter included', () => {
    for (const r of [0, 0.5, 0.999_999]) {
      expect(nextPollDelay(50, polling, () => r)).toBeLessThanOrEqual(polling.maxIntervalMs);
    }
    expect(nextPollDelay(50, polling, () => 0)).toBe(480_000);
  });
});
