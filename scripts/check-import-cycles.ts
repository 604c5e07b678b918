/**
 * Fails (`npm run lint`) when modules under src/ or test/ import each other in a loop. ESLint's
 * `import-x/no-cycle` already refuses loops of runtime imports; this check also follows type-only
 * imports, which the compiler erases but which still tie two modules together (the emulator's
 * STAC data model once reached into its HTTP routes this way). Imports are read with TypeScript's
 * own pre-processor; cycles are the strongly connected components of the import graph.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Every `.ts` file below `dir`. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** The project files a module imports (relative specifiers only: packages cannot import back). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .filter(({ fileName }) => fileName.startsWith('.'))
    .map(({ fileName }) => path.resolve(path.dirname(file), fileName))
    .map((base) => [`${base}.ts`, path.join(base, 'index.ts'), base].find((f) => f.endsWith('.ts') && existsSync(f)))
    .filter((f): f is string => f !== undefined);
}

/** The import cycles among the modules below `dirs`, each as its files (Tarjan's algorithm). */
export function findImportCycles(dirs: readonly string[]): string[][] {
  const files = dirs.flatMap(tsFiles);
  const graph = new Map(files.map((file) => [file, importsOf(file)]));
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    order.set(file, order.size);
    low.set(file, order.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!order.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, order.get(next)!));
      }
    }
    if (low.get(file) !== order.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)?.includes(file)) cycles.push(component.sort());
  };
  for (const file of files) if (!order.has(file)) visit(file);
  return cycles;
}

if (require.main === module) {
  const root = path.join(__dirname, '..');
  const cycles = findImportCycles(['src', 'test'].map((dir) => path.join(root, dir)));
  for (const cycle of cycles) {
    console.error(`import cycle: ${cycle.map((file) => path.relative(root, file)).join(' ↔ ')}`);
  }
  process.exitCode = cycles.length > 0 ? 1 : 0;
}
