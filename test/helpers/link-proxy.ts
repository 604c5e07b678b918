/**
 * A real HTTP proxy in front of the emulator's product links, for delivery tests that need a
 * server misbehaving in one precise way: ignore `Range`, flip one byte of one range, or stall one
 * range and cut its connection when the test says so. Everything else is passed through as is.
 * Start the emulator with `publicUrl: proxy.url` so its download links point here.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRead {
  /** First byte asked for (0 without a Range header). */
  start: number;
  range: string | undefined;
  status?: number;
  /** True once the whole answer went out to the client. */
  finished: boolean;
}

export interface LinkProxy {
  url: string;
  /** Where requests go (the emulator's own URL); set once the emulator is up. */
  target: string;
  /** Product reads seen (GET `/swift/…`), in arrival order. */
  reads: ProxiedRead[];
  /** Drop `Range`/`If-Range` from product reads: a server that ignores ranges. */
  ignoreRange: boolean;
  /** Flip one byte, `at` bytes into the body, of the first read that starts at `start` (once per setting). */
  corrupt?: { start: number; at: number };
  /**
   * Send `after` body bytes of the first read that starts at `start` (once per setting), then hold
   * it; `cut()` then destroys its connection (the range killed mid-flight).
   */
  stall?: { start: number; after: number };
  /** True once the stalled read has sent its bytes and waits. */
  stalled(): boolean;
  cut(): void;
  close(): Promise<void>;
}

export async function startLinkProxy(): Promise<LinkProxy> {
  let cutStalled: (() => void) | undefined;
  // Each corrupt/stall setting applies once: to the first read that matches it.
  let corrupted: LinkProxy['corrupt'];
  let stalledBy: LinkProxy['stall'];
  const proxy: LinkProxy = {
    url: '',
    target: '',
    reads: [],
    ignoreRange: false,
    stalled: () => cutStalled !== undefined,
    cut: () => cutStalled?.(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const product = req.method === 'GET' && (req.url ?? '').startsWith('/swift/');
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: new URL(proxy.target).host };
    let read: ProxiedRead | undefined;
    if (product) {
      if (proxy.ignoreRange) {
        delete headers.range;
        delete headers['if-range'];
      }
      const range = headers.range as string | undefined;
      read = { start: Number(/bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0), range, finished: false };
      proxy.reads.push(read);
    }
    const upstream = request(`${proxy.target}${req.url ?? '/'}`, { method: req.method, headers }, (up) => {
      if (read) read.status = up.statusCode;
      res.writeHead(up.statusCode ?? 502, up.headers);
      const corrupt =
        read && corrupted !== proxy.corrupt && proxy.corrupt?.start === read.start ? proxy.corrupt : undefined;
      const stall = read && stalledBy !== proxy.stall && proxy.stall?.start === read.start ? proxy.stall : undefined;
      if (corrupt) corrupted = corrupt;
      if (stall) stalledBy = stall;
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        let out = chunk;
        if (corrupt && sent <= corrupt.at && corrupt.at < sent + chunk.length) {
          out = Buffer.from(chunk);
          out[corrupt.at - sent] = out[corrupt.at - sent]! ^ 0xff;
        }
        if (stall && sent + out.length > stall.after) {
          res.write(out.subarray(0, Math.max(0, stall.after - sent)));
          up.destroy();
          cutStalled = () => {
            cutStalled = undefined;
            res.destroy();
          };
          sent = stall.after;
          return;
        }
        sent += out.length;
        if (!res.write(out)) {
          up.pause();
          res.once('drain', () => up.resume());
        }
      });
      up.on('end', () => {
        res.end();
        if (read) res.once('finish', () => (read.finished = true));
      });
      up.on('error', () => {
        if (!cutStalled) res.destroy();
      });
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
