import { createHash, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createGreetingActivities } from '../fixtures/greeting-activities';
import { testStack } from '../helpers/stack';

describe('a real worker on the Temporal dev server', () => {
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;

  beforeAll(async () => {
    const { address, namespace } = testStack().temporal;
    connection = await Connection.connect({ address });
    nativeConnection = await NativeConnection.connect({ address });
    client = new Client({ connection, namespace });
  });

  afterAll(async () => {
    await nativeConnection?.close();
    await connection?.close();
  });

  it('runs a workflow with one activity and records it in history', async () => {
    const taskQueue = `greeting-${randomUUID()}`;
    const workflowId = `greeting-${randomUUID()}`;
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: testStack().temporal.namespace,
      taskQueue,
      workflowsPath: require.resolve('../fixtures/workflows/greeting'),
      activities: createGreetingActivities(),
    });

    const result = await worker.runUntil(
      client.workflow.execute('greeting', { taskQueue, workflowId, args: ['Sentinel-2'] }),
    );

    const text = 'Hello, Sentinel-2!';
    expect(result).toEqual({
      greeting: text,
      length: text.length,
      sha256: createHash('sha256').update(text).digest('hex'),
    });

    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]?.activityTaskScheduledEventAttributes?.activityType?.name).toBe('describeText');
    expect(events.filter((e) => e.activityTaskCompletedEventAttributes)).toHaveLength(1);
    expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
    expect((await client.workflow.getHandle(workflowId).describe()).status.name).toBe('COMPLETED');
  });
});
