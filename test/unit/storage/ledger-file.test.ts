import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileLedger, STALE_TEMP_MS } from '../../../src/storage/ledger-file';
import { productKeyDigest } from '../../../src/storage/ledger';
import { LEDGER_CONTRACT, type LedgerContext, key, recordOf } from './ledger-contract';

const roots: string[] = [];
afterAll(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

/** Every file below the ledger directory, temporary ones included. */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** A fresh store for each check. */
async function openStores(): Promise<LedgerContext> {
  const root = await mkdtemp(path.join(tmpdir(), 'ledger-file-'));
  roots.push(root);
  const dir = path.join(root, 'ledger');
  return { ledger: await FileLedger.open(dir), second: await FileLedger.open(dir), storedObjects: () => allFiles(dir) };
}

describe('FileLedger: ledger contract', () => {
  let context: LedgerContext;
  beforeEach(async () => {
    context = await openStores();
  });
  it.each(Object.entries(LEDGER_CONTRACT))('%s', (_name, assertContract) => assertContract(context));
});

describe('FileLedger on disk', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'ledger-disk-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('removes the temporary file a killed writer left, once it is stale, and only then', async () => {
    const ledger = await FileLedger.open(root);
    const k = key('P1');
    await ledger.record(recordOf(k, '/d/1.zip', '2026-01-01T00:00:00Z'));
    const folder = path.join(ledger.dir, productKeyDigest(k));
    const stale = path.join(folder, '.tmp-deadwriter');
    const fresh = path.join(folder, '.tmp-livewriter');
    await writeFile(stale, '{"half":');
    await writeFile(fresh, '{"half":');
    const old = new Date(Date.now() - STALE_TEMP_MS - 60_000);
    await utimes(stale, old, old);

    await ledger.record(recordOf(k, '/d/2.zip', '2026-01-02T00:00:00Z'));
    const names = (await readdir(folder)).filter((name) => name.startsWith('.'));
    expect(names).toEqual(['.tmp-livewriter']);
    expect(await ledger.lookup(k)).toHaveLength(2);
  });

  it('leaves no temporary files behind, even with many concurrent writers', async () => {
    const writers = await Promise.all(Array.from({ length: 4 }, () => FileLedger.open(root)));
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        writers[i % 4]!.record(recordOf(key(`P${i % 10}`), `/d/${i}.zip`, '2026-01-01T00:00:00Z')),
      ),
    );
    const files = await allFiles(root);
    expect(files).toHaveLength(200);
    expect(files.filter((file) => path.basename(file).startsWith('.'))).toEqual([]);
  });

  it('ignores damaged or foreign files in a product folder', async () => {
    const ledger = await FileLedger.open(root);
    const k = key('S2A_DAMAGED');
    await ledger.record(recordOf(k, '/d/ok.zip', '2026-01-01T00:00:00Z'));
    const folder = path.join(root, productKeyDigest(k));
    await writeFile(path.join(folder, '000000000000001_0123456789abcdef_0123456789abcdef.json'), '{"half": ');
    await writeFile(path.join(folder, 'notes.txt'), 'hello');
    expect((await ledger.lookup(k)).map((r) => r.location)).toEqual(['/d/ok.zip']);
  });
});
