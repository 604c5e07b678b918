/**
 * A throwaway PostgreSQL for the Temporal cluster stack: a fresh database cluster in a scratch
 * folder, on a free loopback port, leashed like every other server here (it dies with us). Uses
 * the machine's PostgreSQL binaries (Debian's `postgresql` package, installed by `ensurePostgres`
 * when missing and we may). As root it runs as the `postgres` user, since PostgreSQL refuses root.
 */
import { execFile } from 'node:child_process';
import { access, chmod, chown, constants, mkdir, readdir, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { type LeashedProcess, startLeashed } from './leashed-process';
import { ToolUnavailableError } from './tools';
import { freePort, waitUntilReady } from './wait';

const execFileAsync = promisify(execFile);

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Stops the server quickly (fast shutdown) and starts it again on the same data and port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** A folder of ours; the database cluster is created inside it. */
  dir: string;
  log?: (line: string) => void;
}

/** Where `initdb`, `postgres` and `pg_isready` are: PG_BIN_DIR, PATH, or Debian's versioned folder. */
export async function ensurePostgres(log: (line: string) => void = () => undefined): Promise<string> {
  const found = await findPostgresBin();
  if (found) return found;
  if (process.getuid?.() === 0 && (await executable('/usr/bin/apt-get'))) {
    log("PostgreSQL is not installed: installing Debian's postgresql package (once)…");
    await execFileAsync('apt-get', ['update', '-q'], { maxBuffer: 16 << 20 });
    await execFileAsync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'postgresql'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      maxBuffer: 64 << 20,
    });
    const installed = await findPostgresBin();
    if (installed) return installed;
  }
  throw new ToolUnavailableError(
    'PostgreSQL was not found (PG_BIN_DIR, PATH, /usr/lib/postgresql/*/bin): install it (Debian: apt-get install postgresql).',
  );
}

async function findPostgresBin(): Promise<string | undefined> {
  const candidates = [process.env.PG_BIN_DIR, ...(process.env.PATH ?? '').split(path.delimiter)];
  const debian = '/usr/lib/postgresql';
  const versions = await readdir(debian).catch(() => [] as string[]);
  versions.sort((a, b) => Number(b) - Number(a));
  candidates.push(...versions.map((v) => path.join(debian, v, 'bin')));
  for (const dir of candidates) {
    if (dir && (await executable(path.join(dir, 'initdb'))) && (await executable(path.join(dir, 'postgres')))) {
      // A PATH entry may hold links to a few of them (initdb, postgres): the real folder has them all.
      return path.dirname(await realpath(path.join(dir, 'initdb')));
    }
  }
  return undefined;
}

export async function startPostgres(options: PostgresOptions): Promise<PostgresServer> {
  const bin = await ensurePostgres(options.log);
  const runAs = await postgresUser();
  const dataDir = path.join(options.dir, 'data');
  const socketDir = path.join(options.dir, 'socket');
  const user = 'temporal';
  const password = 'temporal';
  await mkdir(socketDir, { recursive: true });
  const passwordFile = path.join(options.dir, 'password');
  await writeFile(passwordFile, password, { mode: 0o600 });
  if (runAs) {
    for (const file of [options.dir, socketDir, passwordFile]) await chown(file, runAs.uid, runAs.gid);
    // The postgres user must be able to reach its folder: a private scratch parent (mkdtemp makes
    // them 0700) is opened for traversal only, not for listing.
    await chmod(path.dirname(options.dir), 0o711);
  }
  await execFileAsync(
    path.join(bin, 'initdb'),
    ['-D', dataDir, '-U', user, `--pwfile=${passwordFile}`, '--auth-local=trust', '--auth-host=scram-sha-256'],
    { ...runAs, env: { ...process.env, LC_ALL: 'C.UTF-8' } },
  );

  const port = await freePort();
  let server: LeashedProcess;
  const start = async () => {
    server = startLeashed({
      command: path.join(bin, 'postgres'),
      args: ['-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1'],
      // Logs outside the data folder; the cluster's folder is removed by whoever owns it.
      scratchDir: '-',
      logFile: path.join(options.dir, 'postgres.log'),
      runAs,
      stopSignal: 'SIGINT',
    });
    await waitUntilReady(
      'PostgreSQL',
      async () => {
        await execFileAsync(path.join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]);
        return true;
      },
      { timeoutMs: 60_000, abort: server.exited, describeFailure: () => server.logTail() },
    );
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    async restart() {
      await server.stop();
      await start();
    },
    stop: () => server.stop(),
  };
}

/** The `postgres` account when we are root (PostgreSQL will not run as root), else nobody: run as ourselves. */
async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: string) => Number((await execFileAsync('id', [flag, 'postgres'])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    throw new ToolUnavailableError('Running as root, but there is no "postgres" user to run PostgreSQL as.');
  }
}

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}
