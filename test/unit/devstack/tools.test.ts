import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ToolSpec, ToolUnavailableError, ensureTool } from '../../../src/devstack/tools';

const spec: ToolSpec = {
  name: 'fake-tool',
  goPackage: 'example.com/fake/cmd/fake-tool',
  version: 'v0.0.1',
  envVar: 'FAKE_TOOL_BIN',
  cgo: false,
  coldBuild: 'no time at all',
};

describe('ensureTool', () => {
  let dir: string;
  const quiet = () => undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dedl-tools-test-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function executable(file: string, script = '#!/bin/sh\necho fake\n'): Promise<string> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, script);
    await chmod(file, 0o755);
    return file;
  }

  it('uses the binary named by the environment variable first', async () => {
    const bin = await executable(path.join(dir, 'elsewhere', 'fake-tool'));
    await expect(ensureTool(spec, { toolsDir: dir, env: { FAKE_TOOL_BIN: bin, PATH: '' }, log: quiet })).resolves.toBe(
      bin,
    );
  });

  it('refuses an environment variable that points at nothing runnable', async () => {
    const missing = path.join(dir, 'missing');
    await expect(
      ensureTool(spec, { toolsDir: dir, env: { FAKE_TOOL_BIN: missing, PATH: '' }, log: quiet }),
    ).rejects.toThrow(`FAKE_TOOL_BIN points at ${missing}, which is not an executable file.`);
  });

  it('reuses an earlier build whose stamp names the same version', async () => {
    const built = await executable(path.join(dir, 'bin', 'fake-tool'));
    await writeFile(`${built}.version`, 'example.com/fake/cmd/fake-tool@v0.0.1');
    await expect(ensureTool(spec, { toolsDir: dir, env: { PATH: '' }, log: quiet })).resolves.toBe(built);
  });

  it('prefers a binary on PATH to an earlier build', async () => {
    const onPath = await executable(path.join(dir, 'path-bin', 'fake-tool'));
    const built = await executable(path.join(dir, 'bin', 'fake-tool'));
    await writeFile(`${built}.version`, 'example.com/fake/cmd/fake-tool@v0.0.1');
    await expect(ensureTool(spec, { toolsDir: dir, env: { PATH: path.dirname(onPath) }, log: quiet })).resolves.toBe(
      onPath,
    );
  });

  it('fails with one clear sentence when neither a binary nor Go is available', async () => {
    const attempt = ensureTool(spec, { toolsDir: dir, env: { PATH: path.join(dir, 'empty') }, log: quiet });
    await expect(attempt).rejects.toBeInstanceOf(ToolUnavailableError);
    await expect(attempt).rejects.toThrow(
      /no Go toolchain is available to build it: install Go ≥ 1\.25 or put fake-tool on PATH\.$/,
    );
  });

  it('builds with go install into the tools folder and stamps the version', async () => {
    // A stand-in `go` records its arguments and environment, then "installs" the binary into GOBIN.
    const record = path.join(dir, 'go-call.txt');
    await executable(
      path.join(dir, 'go-bin', 'go'),
      `#!/bin/sh\necho "$@ CGO_ENABLED=$CGO_ENABLED" > ${record}\nprintf '#!/bin/sh\\n' > "$GOBIN/fake-tool"\n/bin/chmod +x "$GOBIN/fake-tool"\n`,
    );
    const lines: string[] = [];
    const built = await ensureTool(spec, {
      toolsDir: dir,
      env: { PATH: path.join(dir, 'go-bin') },
      log: (line) => lines.push(line),
    });
    expect(built).toBe(path.join(dir, 'bin', 'fake-tool'));
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(record, 'utf8')).trim()).toBe('install example.com/fake/cmd/fake-tool@v0.0.1 CGO_ENABLED=0');
    expect(await readFile(`${built}.version`, 'utf8')).toBe('example.com/fake/cmd/fake-tool@v0.0.1');
    expect(lines[0]).toMatch(
      /^Building fake-tool v0\.0\.1 with go install into .* \(cold build: no time at all; later runs reuse it\)…$/,
    );
  });
});
