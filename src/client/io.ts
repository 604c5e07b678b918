/**
 * What a command may touch of the outside world, passed in rather than read from globals, so the
 * CLI runs the same from its bin and inside a test (`runCli(argv, io)`).
 */

/** A text sink such as `process.stdout`; `isTTY` switches on progress bars. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  /** The environment commands read (and that `.env` is merged into). */
  env: NodeJS.ProcessEnv;
  /** Relative paths (request files, `./dir` sinks) are resolved against this folder. */
  cwd: string;
  /** Stops long-running commands (`worker`, `dev`, `emulator`, `demo --keep`) like Ctrl-C does. */
  signal?: AbortSignal;
}

/** Global flags every command understands. */
export interface GlobalFlags {
  json: boolean;
}

/** Writes whole lines. */
export function line(stream: OutputStream, text = ''): void {
  stream.write(`${text}\n`);
}

/** Prints one JSON document (the only thing a `--json` command writes to stdout). */
export function printJson(stream: OutputStream, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * An AbortSignal that fires when the user asks the command to stop: SIGINT/SIGTERM, or
 * `io.signal`. `dispose()` removes the listeners, so after it (or after the first signal) a
 * Ctrl-C falls back to Node's default and ends the process at once.
 */
export function stopSignal(io: CliIO): { signal: AbortSignal; reason: () => string | undefined; dispose(): void } {
  const controller = new AbortController();
  let reason: string | undefined;
  const stop = (why: string) => {
    reason ??= why;
    dispose();
    controller.abort();
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  const onAbort = () => stop('abort');
  function dispose() {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    io.signal?.removeEventListener('abort', onAbort);
  }
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  if (io.signal?.aborted) stop('abort');
  else io.signal?.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, reason: () => reason, dispose };
}

/** Resolves when the user asks the command to stop (see {@link stopSignal}). */
export async function untilStopped(io: CliIO): Promise<string> {
  const stop = stopSignal(io);
  if (!stop.signal.aborted)
    await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
  return stop.reason() ?? 'abort';
}
