/**
 * Finds or builds the two server binaries the local stack runs: the Temporal CLI (its dev server)
 * and versitygw (an S3 server with real SigV4 checks). Neither is published on npm, so a machine
 * without them builds them once with `go install` into a git-ignored tools folder and reuses them.
 */
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { access, constants, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ToolSpec {
  /** Executable name, also the name looked up on PATH. */
  readonly name: string;
  /** Go package path and version handed to `go install`. */
  readonly goPackage: string;
  readonly version: string;
  /** Environment variable that points at an existing binary and wins over everything else. */
  readonly envVar: string;
  readonly cgo: boolean;
  /** The file `go install` writes, when it is not `name` (renamed to `name` after the build). */
  readonly goBinary?: string;
  /** Rough cold build time, printed so nobody thinks the run hangs. */
  readonly coldBuild: string;
}

export const TEMPORAL_CLI: ToolSpec = {
  name: 'temporal',
  goPackage: 'github.com/temporalio/cli/cmd/temporal',
  // v1.5.1 is the newest tag whose go.mod has no `replace` directive, so `go install` accepts it.
  version: 'v1.5.1',
  envVar: 'TEMPORAL_CLI',
  cgo: false,
  coldBuild: 'about 5 minutes on 2 cores',
};

export const VERSITYGW: ToolSpec = {
  name: 'versitygw',
  goPackage: 'github.com/versity/versitygw/cmd/versitygw',
  version: 'v1.7.0',
  envVar: 'VERSITYGW_BIN',
  cgo: false,
  coldBuild: 'about 2 minutes on 2 cores',
};

/** The Temporal server itself (frontend, history, matching, worker), as the compose image runs it. */
export const TEMPORAL_SERVER: ToolSpec = {
  name: 'temporal-server',
  goPackage: 'go.temporal.io/server/cmd/server',
  version: 'v1.30.1',
  envVar: 'TEMPORAL_SERVER_BIN',
  cgo: false,
  goBinary: 'server',
  coldBuild: 'about 8 minutes on 2 cores',
};

/** The Temporal server's schema tool for SQL stores (`temporal-sql-tool` in the admin-tools image). */
export const TEMPORAL_SQL_TOOL: ToolSpec = {
  name: 'temporal-sql-tool',
  goPackage: 'go.temporal.io/server/cmd/tools/sql',
  version: 'v1.30.1',
  envVar: 'TEMPORAL_SQL_TOOL_BIN',
  cgo: false,
  goBinary: 'sql',
  coldBuild: 'about 2 minutes on 2 cores once the server is built',
};

export interface EnsureToolOptions {
  /** Folder holding `bin/` with built tools; defaults to `<project>/.tools`. */
  toolsDir?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** The project root, two levels above this file both in `src/devstack` and in `dist/devstack`. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export class ToolUnavailableError extends Error {
  override readonly name = 'ToolUnavailableError';
}

/** Returns an absolute path to a runnable binary for `spec`, building it with Go when needed. */
export async function ensureTool(spec: ToolSpec, options: EnsureToolOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const toolsDir = path.resolve(options.toolsDir ?? env.DEDL_TOOLS_DIR ?? path.join(PROJECT_ROOT, '.tools'));

  const fromEnv = env[spec.envVar];
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return path.resolve(fromEnv);
    throw new ToolUnavailableError(`${spec.envVar} points at ${fromEnv}, which is not an executable file.`);
  }

  const onPath = await findOnPath(spec.name, env);
  if (onPath) return onPath;

  const built = path.join(toolsDir, 'bin', spec.name);
  const stampFile = `${built}.version`;
  const wanted = `${spec.goPackage}@${spec.version}`;
  if ((await isExecutable(built)) && (await readText(stampFile)) === wanted) return built;

  const go = await findOnPath('go', env);
  if (!go) {
    throw new ToolUnavailableError(
      `No ${spec.name} binary was found (${spec.envVar}, PATH, ${built}) and no Go toolchain is available to build it: ` +
        `install Go ≥ 1.25 or put ${spec.name} on PATH.`,
    );
  }

  await mkdir(path.dirname(built), { recursive: true });
  // Built in a folder of its own, so that a generic name (`server`, `sql`) never lands on a PATH.
  const gobin = path.join(toolsDir, 'build', spec.name);
  await mkdir(gobin, { recursive: true });
  const logFile = path.join(toolsDir, `${spec.name}-build.log`);
  log(
    `Building ${spec.name} ${spec.version} with go install into ${path.dirname(built)} (cold build: ${spec.coldBuild}; later runs reuse it)…`,
  );
  const started = Date.now();
  await runLogged(go, ['install', wanted], logFile, {
    ...env,
    GOBIN: gobin,
    CGO_ENABLED: spec.cgo ? '1' : '0',
    GOFLAGS: [env.GOFLAGS, '-buildvcs=false'].filter(Boolean).join(' '),
  }).catch(async (err: unknown) => {
    const tail = (await readText(logFile)).split('\n').slice(-15).join('\n');
    throw new ToolUnavailableError(`go install ${wanted} failed (${String(err)}); last output:\n${tail}`);
  });
  await rename(path.join(gobin, spec.goBinary ?? spec.name), built);
  await writeFile(stampFile, wanted);
  log(`Built ${spec.name} in ${Math.round((Date.now() - started) / 1000)} s.`);
  return built;
}

async function runLogged(command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): Promise<void> {
  const out = createWriteStream(logFile);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit code ${code}`))));
  }).finally(() => out.end());
}

async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
}

/** `temporal --version`, for logs and the README's troubleshooting section. */
export async function toolVersion(binary: string): Promise<string> {
  const { stdout } = await execFileAsync(binary, ['--version']);
  return stdout.trim();
}
