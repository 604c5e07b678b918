/**
 * The shared failure vocabulary: the refused-request failure, and the message at the bottom of
 * the failure chains the workflows (activity, child) and the client (workflow failed) see.
 */
import { WorkflowFailedError } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  RetryState,
  TimeoutFailure,
  TimeoutType,
} from '@temporalio/common';
import { INVALID_REQUEST, innermostMessage, invalidRequest } from '../../../src/shared/failures';

const activityFailure = (cause: Error) =>
  new ActivityFailure('activity failed', 'pollOrder', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', cause);

describe('invalidRequest', () => {
  it('is a non-retryable InvalidRequest listing every problem, with the problems as details', () => {
    const failure = invalidRequest('campaign request', ['name: must not be empty', 'orderSize: too big']);
    expect(failure).toMatchObject({
      type: INVALID_REQUEST,
      nonRetryable: true,
      message: 'Invalid campaign request: name: must not be empty; orderSize: too big',
      details: [['name: must not be empty', 'orderSize: too big']],
    });
  });
});

describe('innermostMessage', () => {
  const refused = ApplicationFailure.nonRetryable('401 Unauthorized', 'HookAuthError');

  it('reads through activity, child-workflow and workflow-failed wrappers', () => {
    expect(innermostMessage(activityFailure(refused))).toBe('401 Unauthorized');
    const child = new ChildWorkflowFailure(
      'default',
      { workflowId: 'c/order-0001', runId: 'r' },
      'harvest',
      RetryState.NON_RETRYABLE_FAILURE,
      activityFailure(refused),
    );
    expect(innermostMessage(child)).toBe('401 Unauthorized');
    expect(
      innermostMessage(new WorkflowFailedError('Workflow execution failed', child, RetryState.NON_RETRYABLE_FAILURE)),
    ).toBe('401 Unauthorized');
  });

  it('stops at a failure that says something itself, and skips one with no message', () => {
    const timeout = new TimeoutFailure('activity StartToClose timeout', undefined, TimeoutType.START_TO_CLOSE);
    expect(innermostMessage(activityFailure(timeout))).toBe('activity StartToClose timeout');
    const silent = new ApplicationFailure('', 'Wrapper', false, undefined, refused);
    expect(innermostMessage(activityFailure(silent))).toBe('401 Unauthorized');
  });

  it('reads what is not an error as text', () => {
    expect(innermostMessage('plain')).toBe('plain');
    expect(innermostMessage(new Error('bare'))).toBe('bare');
  });
});
