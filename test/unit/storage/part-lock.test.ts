import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { LocalSink, PART_SUFFIX } from '../../../src/storage/local-sink';
import { PartFileBusyError } from '../../../src/storage/part-lock';
import { buildZip, chunked, noise } from '../../helpers/zip-writer';

const NAME = 'S1A_IW_GRDH_1SDV_20240101T000000.SAFE.zip';
const { zip } = buildZip([{ name: 'p/data.bin', data: noise(100_000), method: 'stored' }]);
const LOCAL_SINK = path.resolve(__dirname, '../../../src/storage/local-sink.ts');

/**
 * Another process that opens `<name>.part` in `dir` for resume and holds it; resolves once it
 * says so on stdout.
 */
async function holderProcess(dir: string, name: string): Promise<ChildProcess> {
  const script = [
    `const { LocalSink } = (await import(${JSON.stringify(LOCAL_SINK)})).default;`,
    `const sink = await LocalSink.create(${JSON.stringify(dir)});`,
    `await sink.open(${JSON.stringify(name)}, { resume: true, owner: 'holder ' + process.pid });`,
    `console.log('holding');`,
    `setInterval(() => undefined, 1000);`,
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => Promise.reject(new Error(`holder exited with ${String(code)}`))),
  ])) as [string];
  expect(line).toBe('holding');
  return child;
}

describe('one writer per .part', () => {
  let root: string;
  let sink: LocalSink;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'part-lock-'));
    sink = await LocalSink.create(path.join(root, 'sink'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    await rm(root, { recursive: true, force: true });
  });

  it('refuses a second attempt while the first holds the file, without touching its bytes', async () => {
    await writeFile(path.join(sink.dir, NAME + PART_SUFFIX), zip.subarray(0, 40_000));
    const first = await sink.open(NAME, { resume: true, owner: 'attempt 1' });

    // A non-resuming open would truncate: it must be refused before the file is opened.
    const refused = sink.open(NAME);
    await expect(refused).rejects.toThrow(PartFileBusyError);
    await expect(refused).rejects.toThrow(/another attempt \(attempt 1\)/);
    expect((await readFile(path.join(sink.dir, NAME + PART_SUFFIX))).length).toBe(40_000);

    const delivery = await first.fill(chunked(zip.subarray(first.offset), 30_000), {
      expect: { contentLength: zip.length },
    });
    expect(delivery.size).toBe(zip.length);
    // Released with the delivery: the next product of the same name can be written.
    await (await sink.open(NAME)).discard();
  });

  it('is released by close, discard and a failed fill', async () => {
    await (await sink.open(NAME)).close();
    await (await sink.open(NAME, { resume: true })).discard();
    const part = await sink.open(NAME);
    async function* broken(): AsyncGenerator<Buffer> {
      yield zip.subarray(0, 10_000);
      throw new Error('connection reset');
    }
    await expect(part.fill(broken(), { keepPartialOnFailure: true })).rejects.toThrow('connection reset');
    const again = await sink.open(NAME, { resume: true });
    expect(again.offset).toBe(10_000);
    await again.discard();
    expect(await readdir(sink.dir)).toEqual([]);
  });

  it('is per file: other names and other directories are not blocked', async () => {
    const first = await sink.open(NAME);
    const other = await sink.open(`other-${NAME}`);
    const elsewhere = await (await LocalSink.create(path.join(root, 'elsewhere'))).open(NAME);
    expect([first.offset, other.offset, elsewhere.offset]).toEqual([0, 0, 0]);
    await Promise.all([first.discard(), other.discard(), elsewhere.discard()]);
  });

  it('holds across processes and is free the moment its holder dies, even by SIGKILL', async () => {
    const holder = await holderProcess(sink.dir, NAME);
    children.push(holder);
    await expect(sink.open(NAME, { resume: true })).rejects.toThrow(
      new RegExp(`another attempt \\(holder ${holder.pid}\\)`),
    );

    holder.kill('SIGKILL');
    await once(holder, 'exit');
    // No stale lock to detect or clean up: the kernel released it with the process.
    const part = await sink.open(NAME, { resume: true });
    expect(part.offset).toBe(0);
    await part.discard();
  });
});
