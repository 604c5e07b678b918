/**
 * A real server that cannot start says why: the Temporal dev server told to use a port that is
 * taken exits at once, and the error carries its own last lines (the leash has removed its
 * scratch folder, log and all, by then).
 */
import { type Server, createServer } from 'node:net';
import { startTemporalDevServer } from '../../src/devstack/temporal-dev-server';
import { TEMPORAL_CLI, ensureTool } from '../../src/devstack/tools';
import { freePort } from '../../src/devstack/wait';

describe('a devstack server that fails to start', () => {
  let taken: Server;
  afterEach(() => new Promise<void>((resolve) => (taken ? taken.close(() => resolve()) : resolve())));

  it('reports the server log of a dev server whose port is taken', async () => {
    const port = await freePort();
    // Holds the port; what connects to it (the readiness probe) is hung up on.
    taken = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    const start = startTemporalDevServer({ binary: await ensureTool(TEMPORAL_CLI), port });
    await expect(start).rejects.toThrow(/exited during start-up\.\n[\s\S]*address already in use/);
  });
});
