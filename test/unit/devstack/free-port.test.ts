/**
 * `freePort` hands out a port that the OS will not give to anyone else's port-0 pick before our
 * server binds it — the race that made a dev server fail its start when another jest worker's
 * servers (or the dev server's own internal ports) took the port it was told to use.
 */
import { type Server, createServer } from 'node:net';
import { freeLowPort, freePort } from '../../../src/devstack/wait';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('freePort', () => {
  it('is not handed out again by the OS to port-0 listeners, yet can be bound explicitly', async () => {
    const held = new Set<number>();
    for (let i = 0; i < 100; i++) held.add(await freePort());
    expect(held.size).toBe(100);
    // Ports merely released (listen on 0, close) came back 45 times in 3000 such listeners here.
    const reused: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const other = await listen(0);
      const address = other.address();
      if (address !== null && typeof address !== 'string' && held.has(address.port)) reused.push(address.port);
      await close(other);
    }
    expect(reused).toEqual([]);
    for (const port of held) await close(await listen(port));
  });

  it('gives low ports the same hold', async () => {
    const port = await freeLowPort();
    expect(port).toBeLessThan(32_768);
    await close(await listen(port));
  });
});
