import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAX_SAFE_NAME_LENGTH, safeFileName } from '../../../src/storage/safe-name';

const hostile = [
  '../../x',
  '../../../../etc/passwd',
  '/etc/passwd',
  'C:\\Windows\\system32\\evil.dll',
  '..\\..\\x.zip',
  '..',
  '.',
  '',
  '.bashrc',
  '...',
  'a/../../b',
  'nul\u0000byte.zip',
  'line\nbreak\r.zip',
  '\u202egpj.exe', // right-to-left override
  '\uff0e\uff0e\uff0fescape', // fullwidth ../
  '\u2025/x', // two-dot leader + /
  'x\u2215y', // division slash
  'CON',
  'nul.txt',
  'trailing.',
  'x'.repeat(1000) + '.zip',
  '\u00e9t\u00e9-\u{1F600}.zip',
  'prefix%2F..%2Fencoded',
  '~tilde',
];

describe('safeFileName', () => {
  it('keeps ordinary product names exactly as they are', () => {
    for (const name of [
      'S2A_MSIL1C_20230910T050701_N0509_R033_T44RQN_20230910T073556.SAFE.zip',
      'S1A_IW_GRDH_1SDV_20240101T000000_20240101T000025_051234_062E1A_ABCD.zip',
      'output-data-harvest-12345-678.zip',
      'manifest.json',
    ]) {
      expect(safeFileName(name)).toBe(name);
    }
  });

  it.each(hostile.map((name) => [JSON.stringify(name).slice(0, 60), name]))(
    'turns %s into one plain file name',
    (_label, name) => {
      const safe = safeFileName(name);
      expect(safe).toMatch(/^[A-Za-z0-9_+=@,-][A-Za-z0-9._+=@,~-]*$/);
      expect(safe).not.toMatch(/^\.|\.$/);
      expect(safe.length).toBeLessThanOrEqual(MAX_SAFE_NAME_LENGTH);
      expect(path.basename(safe)).toBe(safe);
      expect(path.join('/sink', safe).startsWith('/sink/')).toBe(true);
      expect(safe).not.toMatch(/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i);
    },
  );

  it('never maps two different inputs to the same name', () => {
    const inputs = [...hostile, 'a_b', 'a/b', 'a\\b', 'a:b', 'a b', 'a?b', 'a_b~0123456789ab'];
    const names = inputs.map(safeFileName);
    expect(new Set(names).size).toBe(new Set(inputs).size);
  });

  it('keeps the extension at the end when it must append a hash', () => {
    expect(safeFileName('dir/S2B product.zip')).toMatch(/^dir_S2B_product~[0-9a-f]{12}\.zip$/);
    expect(safeFileName('x'.repeat(1000) + '.zip')).toMatch(/^x+~[0-9a-f]{12}\.zip$/);
  });

  it('is a function of its input only', () => {
    expect(safeFileName('../../x')).toBe(safeFileName('../../x'));
    expect(safeFileName(12345)).toBe('12345');
  });

  it('creates every hostile name as a file inside the directory and nowhere else', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'safe-name-'));
    const dir = path.join(root, 'sink');
    try {
      await mkdir(dir);
      for (const name of hostile) await writeFile(path.join(dir, safeFileName(name)), name);
      expect((await readdir(dir)).length).toBe(hostile.length);
      expect(await readdir(root)).toEqual(['sink']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
