/**
 * Rewrites the README's configuration table from `workerEnvSchema` (npm run docs:config), then
 * formats the README with the project's Prettier settings, as `npm run format` would.
 * test/unit/config/config-reference.test.ts fails while the README differs from this output.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderConfigReference, replaceConfigReference } from '../src/config/config-reference';

export const README_PATH = path.join(__dirname, '..', 'README.md');

/**
 * The README as it should be: `readme` with a fresh table, formatted by the Prettier CLI exactly
 * as `npm run format` formats it (the CLI, because Prettier's API loads itself with a dynamic
 * import that jest's module system refuses).
 */
export function readmeWithConfigReference(readme: string, filepath = README_PATH): string {
  return execFileSync(process.execPath, [require.resolve('prettier/bin/prettier.cjs'), '--stdin-filepath', filepath], {
    input: replaceConfigReference(readme, renderConfigReference()),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function main(): Promise<void> {
  const readme = await readFile(README_PATH, 'utf8');
  const updated = readmeWithConfigReference(readme);
  if (updated === readme) {
    console.log('README.md: configuration table already up to date');
    return;
  }
  await writeFile(README_PATH, updated);
  console.log('README.md: configuration table rewritten');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
