/**
 * Starts a long-running server through scripts/leash.cjs so that it dies with us, whatever way
 * we exit, and its scratch folder is removed after it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './tools';

const LEASH = path.join(PROJECT_ROOT, 'scripts', 'leash.cjs');
/** How much of the log's end `logTail` reads: a few hundred lines of a server's log. */
const TAIL_BYTES = 64 * 1024;

export interface LeashedProcess {
  readonly pid: number;
  /** Resolves with the exit code once the process (and its leash) have exited. */
  readonly exited: Promise<number | null>;
  /** The last lines the server wrote, for error messages; readable until `stop`, even after the
   * server exited and its scratch folder (and the log in it) was removed. */
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
  // Kept open until stop(): the leash removes the scratch folder the moment the server exits,
  // log included, and a server that failed to start must still show why. An open descriptor keeps
  // the file readable after it is unlinked (and lets it go when we exit, however we exit).
  const logFd = openSync(logFile, 'a+');
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
  } catch (err) {
    closeSync(logFd);
    throw err;
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let logOpen = true;
  let lastLog = '';
  const logTail = async (lines = 20): Promise<string> => {
    // Read synchronously: no read is in flight when stop() closes the descriptor.
    if (logOpen) lastLog = readEnd(logFd);
    return lastLog.split('\n').slice(-lines).join('\n');
  };
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid ?? -1,
    exited,
    logTail,
    stop() {
      stopping ??= (async () => {
        child.stdin?.end();
        await exited;
        await logTail(); // its last lines, for a logTail() after stop
        logOpen = false;
        closeSync(logFd);
      })();
      return stopping;
    },
  };
}

/** The last TAIL_BYTES of the file open at `fd`, from its first whole line. */
function readEnd(fd: number): string {
  const size = fstatSync(fd).size;
  const length = Math.min(size, TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  const bytesRead = readSync(fd, buffer, 0, length, size - length);
  const text = buffer.subarray(0, bytesRead).toString('utf8');
  return size > length ? text.slice(text.indexOf('\n') + 1) : text;
}
