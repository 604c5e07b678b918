/**
 * Running `dedl-harvest` in-process for tests: captured stdout/stderr, an explicit environment
 * and working directory, and the exit code `runCli` returns.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request as http } from 'undici';
import { runCli } from '../../src/client/cli';
import type { CliIO } from '../../src/client/io';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CapturedIO {
  io: CliIO;
  stdout(): string;
  stderr(): string;
}

export function captureIO(env: NodeJS.ProcessEnv, cwd: string, options: { signal?: AbortSignal; tty?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const listeners: ((text: string) => void)[] = [];
  const io: CliIO = {
    stdout: {
      write: (chunk: string) => {
        out.push(chunk);
        for (const listener of listeners) listener(out.join(''));
      },
      isTTY: options.tty ?? false,
      columns: 160,
    },
    stderr: { write: (chunk: string) => err.push(chunk) },
    env,
    cwd,
    signal: options.signal,
  };
  return {
    io,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    /** Resolves once stdout matches (event-driven: no polling, no sleep). */
    stdoutMatching(pattern: RegExp): Promise<string> {
      return new Promise((resolve) => {
        const check = (text: string) => {
          if (pattern.test(text)) resolve(text);
        };
        listeners.push(check);
        check(out.join(''));
      });
    },
  };
}

export async function cli(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliRun> {
  const captured = captureIO({ ...env }, cwd);
  const code = await runCli(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

/** A scratch folder for request files and relative sinks; `cleanup()` removes it. */
export async function scratchDir(
  label: string,
): Promise<{ dir: string; write(name: string, value: unknown): Promise<string>; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `dedl-cli-${label}-`));
  return {
    dir,
    async write(name, value) {
      const file = path.join(dir, name);
      await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
      return file;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface EmulatorStats {
  ordersCreated: number;
  ordersByName: Record<string, number>;
  itemsByState: Record<string, number>;
}

export async function emulatorStats(adminUrl: string): Promise<EmulatorStats> {
  const response = await http(`${adminUrl}/stats`);
  return (await response.body.json()) as EmulatorStats;
}
