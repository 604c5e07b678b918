/**
 * The import-cycle check run by `npm run lint` (scripts/check-import-cycles.ts), on small module
 * trees written for each case: it must find loops of type-only imports too, and nothing in a tree
 * whose imports run one way.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findImportCycles } from '../../../scripts/check-import-cycles';

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'import-cycles-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

describe('findImportCycles', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const names = (dir: string, cycles: string[][]) => cycles.map((c) => c.map((f) => path.relative(dir, f)));

  it('finds a loop of value imports across folders, and nothing beside it', async () => {
    const dir = await tree({
      'a/model.ts': "import { route } from '../b/routes';\nexport const model = route;\n",
      'b/routes.ts':
        "import { codec } from './codec';\nimport { model } from '../a/model';\nexport const route = [codec, model];\n",
      'b/codec.ts': 'export const codec = 1;\n',
    });
    dirs.push(dir);
    expect(names(dir, findImportCycles([dir]))).toEqual([['a/model.ts', 'b/routes.ts']]);
  });

  it('finds a loop that only type imports close, which ESLint’s no-cycle does not count', async () => {
    const dir = await tree({
      'stac.ts':
        "import { decode } from './stac-routes';\nexport interface Item { id: string }\nexport const page = decode;\n",
      'stac-routes.ts': "import type { Item } from './stac';\nexport const decode = (i: Item) => i.id;\n",
    });
    dirs.push(dir);
    expect(names(dir, findImportCycles([dir]))).toEqual([['stac-routes.ts', 'stac.ts']]);
  });

  it('finds nothing when the imports run one way', async () => {
    const dir = await tree({
      'stac.ts':
        "import { decode } from './paging';\nimport { util } from './util';\nexport const page = [decode, util];\n",
      'stac-routes.ts':
        "import type { page } from './stac';\nimport { decode } from './paging';\nexport const r = [decode] as unknown as typeof page;\n",
      'paging.ts': 'export const decode = (t: string) => t;\n',
      'util/index.ts': "export const util = 'x';\n",
    });
    dirs.push(dir);
    expect(findImportCycles([dir])).toEqual([]);
  });
});
