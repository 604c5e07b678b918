/**
 * Starts a long-running server through scripts/leash.cjs so that it dies with us, whatever way
 * we exit, and its scratch folder is removed after it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from './tools';

const LEASH = path.join(PROJECT_ROOT, 'scripts', 'leash.cjs');

export interface LeashedProcess {
  readonly pid: number;
  /** Resolves with the exit code once the process (and its leash) have exited. */
  readonly exited: Promise<number | null>;
  /** The last lines the server wrote, for error messages. */
  logTail(lines?: number): Promise<string>;
  /** Stops the server and waits for it; its scratch folder is gone afterwards. */
  stop(): Promise<void>;
}

export interface LeashOptions {
  command: string;
  args: string[];
  /** Removed after the server exits; the log file lives here too unless `logFile` is given. */
  scratchDir: string;
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Run the server as this user (when we are root and it refuses to be). */
  runAs?: { uid: number; gid: number };
  /** The signal that stops it quickly (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

export function startLeashed(options: LeashOptions): LeashedProcess {
  const logFile = options.logFile ?? path.join(options.scratchDir, 'server.log');
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [LEASH, options.scratchDir, '--', options.command, ...options.args], {
      stdio: ['pipe', logFd, logFd],
      env: {
        ...(options.env ?? process.env),
        ...(options.runAs ? { LEASH_UID: String(options.runAs.uid), LEASH_GID: String(options.runAs.gid) } : {}),
        ...(options.stopSignal ? { LEASH_STOP_SIGNAL: options.stopSignal } : {}),
      },
    });
  } finally {
    closeSync(logFd);
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let lastLog = '';
  const logTail = async (lines = 20): Promise<string> => {
    lastLog = await readFile(logFile, 'utf8').catch(() => lastLog);
    return lastLog.split('\n').slice(-lines).join('\n');
  };
  return {
    pid: child.pid ?? -1,
    exited,
    logTail,
    async stop() {
      await logTail(50);
      child.stdin?.end();
      await exited;
    },
  };
}
