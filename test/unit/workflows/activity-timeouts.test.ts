import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { isScheduleToCloseTimeout } from '../../../src/workflows/activity-timeouts';

const activityFailure = (retryState: RetryState, cause: Error) =>
  new ActivityFailure('Activity task failed', 'pollOrder', '7', retryState, 'worker@host', cause);
const notReady = () => ApplicationFailure.create({ type: 'OrderNotReady', message: '1 of 1 items still queued' });

describe('isScheduleToCloseTimeout', () => {
  it('reads the schedule-to-close timer firing during an attempt', () => {
    const timeout = new TimeoutFailure('timed out', undefined, TimeoutType.SCHEDULE_TO_CLOSE);
    expect(isScheduleToCloseTimeout(activityFailure(RetryState.TIMEOUT, timeout))).toBe(true);
  });

  it("reads retries stopped by the schedule-to-close time, the last attempt's failure as cause", () => {
    expect(isScheduleToCloseTimeout(activityFailure(RetryState.TIMEOUT, notReady()))).toBe(true);
  });

  it('is false for a failure that is not about time', () => {
    const refused = ApplicationFailure.create({ type: 'HookRequestError', message: 'bad', nonRetryable: true });
    expect(isScheduleToCloseTimeout(activityFailure(RetryState.NON_RETRYABLE_FAILURE, refused))).toBe(false);
    const heartbeat = new TimeoutFailure('no heartbeat', undefined, TimeoutType.HEARTBEAT);
    expect(isScheduleToCloseTimeout(activityFailure(RetryState.MAXIMUM_ATTEMPTS_REACHED, heartbeat))).toBe(false);
    expect(isScheduleToCloseTimeout(notReady())).toBe(false);
  });
});
