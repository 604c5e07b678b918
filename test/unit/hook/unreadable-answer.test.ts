/**
 * An answer whose shape the client cannot read fails at once, not retried: the failure names the
 * field and carries the answer (secrets masked, truncated) for a bug report. Served over real HTTP
 * by a one-route server, since the emulator only serves shapes the client reads.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toApplicationFailure } from '../../../src/activities/failures';
import { HookClient } from '../../../src/hook/client';
import { endpointsAt } from '../../../src/hook/endpoints';
import { HookResponseError, HookUnreadableAnswerError } from '../../../src/hook/errors';
import { createHttpAgent } from '../../../src/hook/http';

let server: Server;
let answer = '';
const agent = createHttpAgent();
let client: HookClient;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new HookClient({
    endpoints: endpointsAt(`http://127.0.0.1:${port}`),
    dispatcher: agent,
    tokens: { token: async () => 'token', invalidate: () => undefined },
  });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await agent.close();
});

describe('an answer the client cannot read', () => {
  it('fails non-retryably, naming the field and keeping the answer with secrets masked', async () => {
    answer = JSON.stringify({
      value: [
        {
          Id: '11',
          Name: 'data-harvest',
          WorkflowOptions: [
            { Name: 'output_storage', Value: [{ condition: null }] },
            { Name: 'desp_source_password', Value: 'gAAAAABmQ1oOU3Y35rQUoOlrcg2hHUaofL1s' },
          ],
        },
      ],
      padding: 'x'.repeat(10_000),
    });
    const err = await client.getWorkflow('data-harvest').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookUnreadableAnswerError);
    const unreadable = err as HookUnreadableAnswerError;
    expect(unreadable.message).toContain('value.0.WorkflowOptions.0.Value.0');
    expect(unreadable.rawAnswer).toContain('"output_storage"');
    expect(unreadable.rawAnswer).not.toContain('gAAAAAB');
    expect(unreadable.rawAnswer.length).toBeLessThan(4100);

    const failure = toApplicationFailure(err);
    expect(failure.type).toBe('HookUnreadableAnswerError');
    expect(failure.nonRetryable).toBe(true);
    expect(JSON.stringify(failure.details)).toContain('output_storage');
  });

  it('an answer that is not JSON at all (a proxy page) stays retryable', async () => {
    answer = '<html>Bad gateway</html>';
    const err = await client.listWorkflows().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HookResponseError);
    expect(toApplicationFailure(err).nonRetryable).toBe(false);
  });
});
