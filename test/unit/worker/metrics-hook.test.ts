/**
 * The Hook clients tell their observer about every request over real HTTP (the emulator): a fixed
 * operation name, the status or none, and the time to the headers; never a URL.
 */
import { createServer } from 'node:net';
import { request as http } from 'undici';
import { type EmulatorHandle, startEmulator } from '../../../src/emulator';
import { HookClient } from '../../../src/hook/client';
import { despTokenSource } from '../../../src/hook/desp-login';
import { endpointsAt } from '../../../src/hook/endpoints';
import { HookConnectionError, HookServerError } from '../../../src/hook/errors';
import { type HttpExchange, createHttpAgent } from '../../../src/hook/http';
import { StacClient } from '../../../src/hook/stac';
import { staticTokenSource } from '../../../src/hook/tokens';

const COLLECTION = 'EO.ESA.DAT.SENTINEL-2.MSI.L1C';

describe('Hook request observer over HTTP', () => {
  let emulator: EmulatorHandle;
  const agent = createHttpAgent({ connectTimeoutMs: 2_000 });
  const seen: HttpExchange[] = [];
  const observer = { exchange: (e: HttpExchange) => seen.push(e) };

  beforeAll(async () => {
    emulator = await startEmulator({ timing: { queuedMs: 10, processingMs: 10 } });
  });
  afterAll(async () => {
    await emulator?.close();
    await agent.close();
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const hookAt = (url: string) => {
    const endpoints = endpointsAt(url);
    const tokens = despTokenSource(agent, { username: 'demo', password: 'demo' }, { endpoints });
    return { hook: new HookClient({ endpoints, dispatcher: agent, tokens, observer }), tokens, endpoints };
  };

  it('reports each call by operation with its status and duration, and nothing else', async () => {
    const { hook, tokens, endpoints } = hookAt(emulator.url);
    await hook.listWorkflows();
    await hook.getWorkflow('no_such_workflow');
    const stac = new StacClient({ stacUrl: endpoints.stac, dispatcher: agent, tokens, observer });
    await stac.searchAll({ collections: [COLLECTION], limit: 2 }, { maxItems: 1 }); // one page

    expect(seen.map((e) => [e.operation, e.method, e.status])).toEqual([
      ['list-workflows', 'GET', 200],
      ['get-workflow', 'GET', 200],
      ['stac-search', 'POST', 200],
    ]);
    for (const exchange of seen) {
      expect(Object.keys(exchange).sort()).toEqual(['durationMs', 'method', 'operation', 'status']);
      expect(exchange.durationMs).toBeGreaterThan(0);
      expect(exchange.durationMs).toBeLessThan(30_000);
    }
  });

  it('reports a server error with its status and a refused bearer once per send', async () => {
    const { hook } = hookAt(emulator.url);
    const patch = (faults: object) =>
      http(`${emulator.adminUrl}/faults`, { method: 'PATCH', body: JSON.stringify(faults) }).then((r) => r.body.dump());
    await patch({ errorRate: 1, errorStatus: 503, scopes: ['odata'] });
    try {
      await expect(hook.getOrder('1')).rejects.toBeInstanceOf(HookServerError);
    } finally {
      await patch({ errorRate: 0 });
    }
    expect(seen.map((e) => [e.operation, e.status])).toEqual([['get-order', 503]]);

    // A bearer the Hook does not know: refused, renewed (the same static token), refused again.
    seen.length = 0;
    const endpoints = endpointsAt(emulator.url);
    const stale = new HookClient({ endpoints, dispatcher: agent, tokens: staticTokenSource('not-a-token'), observer });
    await expect(stale.listWorkflows()).rejects.toThrow();
    expect(seen.map((e) => [e.operation, e.status])).toEqual([
      ['list-workflows', 401],
      ['list-workflows', 401],
    ]);
  });

  it('reports a request that got no answer without a status', async () => {
    const port = await closedPort();
    const unreachable = new HookClient({
      endpoints: endpointsAt(`http://127.0.0.1:${port}`),
      dispatcher: agent,
      tokens: staticTokenSource('token'),
      observer,
    });
    await expect(unreachable.getOrderItems('7')).rejects.toBeInstanceOf(HookConnectionError);
    expect(seen).toEqual([
      { operation: 'get-order-items', method: 'GET', status: undefined, durationMs: expect.any(Number) },
    ]);
  });
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
