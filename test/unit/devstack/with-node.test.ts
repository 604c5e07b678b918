/**
 * scripts/with-node.cjs, the way CI runs the suite on Node 24 and 22 on a machine with another
 * Node: which Node it picks and how it runs the command. Fake `node` binaries stand in for real ones; the
 * fetch from the npm registry itself is exercised by CI's first run (`.tools/node-<version>`).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const SCRIPT = path.resolve(__dirname, '../../../scripts/with-node.cjs');

describe('scripts/with-node.cjs', () => {
  let dir: string;
  let pinned: string;

  beforeAll(async () => {
    pinned = /^ {2}24: \{\n {4}version: '(24\.\d+\.\d+)',$/m.exec(await readFile(SCRIPT, 'utf8'))![1]!;
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dedl-node24-test-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A fake `node` in `folder` that answers `--version` with `version` and prints its arguments otherwise. */
  async function fakeNode(folder: string, version: string): Promise<string> {
    await mkdir(folder, { recursive: true });
    const file = path.join(folder, 'node');
    await writeFile(
      file,
      `#!/bin/sh\nif [ "$1" = --version ]; then echo ${version}; else echo "${version} ran: $*"; fi\n`,
    );
    await chmod(file, 0o755);
    return file;
  }

  function run(args: string[], pathDirs: string[]) {
    return execFileAsync(process.execPath, [SCRIPT, ...args], {
      env: { PATH: [...pathDirs, '/usr/bin', '/bin'].join(':'), DEDL_TOOLS_DIR: path.join(dir, 'tools') },
    });
  }

  it('uses the node first on PATH when it is of the asked line, and fetches nothing', async () => {
    const own = await fakeNode(path.join(dir, 'own-bin'), 'v24.1.0');
    await expect(run(['24'], [path.dirname(own)])).resolves.toMatchObject({ stdout: `${own} v24.1.0\n` });
    await expect(run(['24', 'node', 'x.js'], [path.dirname(own)])).resolves.toMatchObject({
      stdout: 'v24.1.0 ran: x.js\n',
    });
    await expect(readdir(dir)).resolves.toEqual(['own-bin']);
  });

  it.each(['v20.20.2', 'v26.12.1'])(
    'puts the pinned Node from the tools folder first on PATH when the one on PATH is %s',
    async (other) => {
      const onPath = await fakeNode(path.join(dir, 'other-bin'), other);
      const fetched = await fakeNode(path.join(dir, 'tools', `node-${pinned}`, 'bin'), `v${pinned}`);
      await expect(run(['24'], [path.dirname(onPath)])).resolves.toMatchObject({ stdout: `${fetched} v${pinned}\n` });
      // Every `node` the command starts, directly or through `#!/usr/bin/env node`, is the pinned one.
      await expect(run(['24', 'sh', '-c', 'node test --ci'], [path.dirname(onPath)])).resolves.toMatchObject({
        stdout: `v${pinned} ran: test --ci\n`,
      });
      const { stdout } = await run(['24', 'sh', '-c', 'echo "$PATH"'], [path.dirname(onPath)]);
      expect(stdout.split(':')[0]).toBe(path.dirname(fetched));
    },
  );

  it('refuses a line it has no pinned version for', async () => {
    await expect(run(['20', 'npm', 'test'], [])).rejects.toMatchObject({
      code: 1,
      stderr: 'with-node: usage: with-node.cjs <22|24|supported> [command [args…]]\n',
    });
  });

  it('"supported" keeps a node of a supported line and takes the pinned 24 instead of any other', async () => {
    const own = await fakeNode(path.join(dir, 'own-bin'), 'v22.0.0');
    await expect(run(['supported'], [path.dirname(own)])).resolves.toMatchObject({ stdout: `${own} v22.0.0\n` });
    const old = await fakeNode(path.join(dir, 'old-bin'), 'v20.20.2');
    const pinned = await fakeNode(path.join(dir, 'tools', 'node-24.22.3', 'bin'), 'v24.22.3');
    const chosen = await run(['supported'], [path.dirname(old)]);
    expect(chosen.stdout).toBe(`${pinned} v24.22.3\n`);
    expect(chosen.stderr).toContain('Node v20.20.2 is not a supported line (22, 24): running on Node 24.22.3');
  });

  it("exits with the command's status", async () => {
    const own = await fakeNode(path.join(dir, 'own-bin'), 'v22.0.0');
    await expect(run(['22', 'sh', '-c', 'exit 7'], [path.dirname(own)])).rejects.toMatchObject({ code: 7 });
    await expect(run(['22', 'no-such-command-here'], [path.dirname(own)])).rejects.toMatchObject({
      code: 127,
      stderr: expect.stringContaining('with-node: cannot run no-such-command-here'),
    });
  });
});
