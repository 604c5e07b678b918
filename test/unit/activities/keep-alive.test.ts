/**
 * Every activity heartbeats while it runs (src/activities/keep-alive.ts), at a third of its heartbeat
 * timeout, except those that heartbeat their own checkpoints. On jest's fake clock.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeatingWhileRunning } from '../../../src/activities/keep-alive';

describe('heartbeatingWhileRunning', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('heartbeats while a wrapped activity runs, at a third of its heartbeat timeout, and stops when it ends', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 300 });
    let beats = 0;
    env.on('heartbeat', () => beats++);
    let finish!: (value: string) => void;
    const activities = heartbeatingWhileRunning(
      { slowCall: () => new Promise<string>((resolve) => (finish = resolve)) },
      [],
    );

    const result = env.run(activities.slowCall);
    await jest.advanceTimersByTimeAsync(99);
    expect(beats).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(beats).toBe(1);
    await jest.advanceTimersByTimeAsync(200);
    expect(beats).toBe(3);
    finish('done');
    await expect(result).resolves.toBe('done');
    await jest.advanceTimersByTimeAsync(1000);
    expect(beats).toBe(3);
  });

  it('heartbeats every 10 s at most, whatever the heartbeat timeout', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 600_000 });
    let beats = 0;
    env.on('heartbeat', () => beats++);
    let finish!: () => void;
    const activities = heartbeatingWhileRunning(
      { slowCall: () => new Promise<void>((resolve) => (finish = resolve)) },
      [],
    );
    const result = env.run(activities.slowCall);
    await jest.advanceTimersByTimeAsync(30_000);
    expect(beats).toBe(3);
    finish();
    await result;
  });

  it('leaves the activities that heartbeat their own checkpoints as they are', () => {
    const own = async () => 'checkpointing';
    const other = async () => 'short';
    const activities = heartbeatingWhileRunning({ own, other }, ['own']);
    expect(activities.own).toBe(own);
    expect(activities.other).not.toBe(other);
  });
});
