/**
 * A TCP proxy that passes bytes through unchanged (so S3 signatures, which cover the Host header,
 * stay valid) until one connection's answer has carried `holdAfterBytes`: from then on that
 * answer is held — a store that stops sending mid-object and keeps the connection open, the way a
 * slow or stalled real network looks to the worker. Small answers (listings, side files) pass.
 */
import { type AddressInfo, type Socket, createServer, connect } from 'node:net';

export interface HoldProxy {
  /** `http://127.0.0.1:<port>`: the endpoint to give the client instead of the target's. */
  url: string;
  /** True once some answer has been held. */
  held(): boolean;
  close(): Promise<void>;
}

export async function startHoldProxy(target: string, holdAfterBytes: number): Promise<HoldProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let held = false;
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    let answered = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (answered >= holdAfterBytes) return; // held: dropped, the connection stays open and silent
      const passed = chunk.subarray(0, holdAfterBytes - answered);
      answered += passed.length;
      client.write(passed);
      if (answered >= holdAfterBytes) held = true;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
