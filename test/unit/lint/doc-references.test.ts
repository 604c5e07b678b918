/**
 * Every `docs/<page>.md §<section>` that a comment in src/ or test/ cites resolves: the page is in
 * docs/ and has a heading with that section number (`## 4.`, `### 2.3`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');
const CITATION = /docs\/([\w-]+\.md)`?((?:\s*(?:§|,\s*§|–§)\d+(?:\.\d+)?)*)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|md)$/.test(e.name) && !e.parentPath.includes('fixtures'))
    .map((e) => path.join(e.parentPath, e.name));
}

function citations(): { where: string; page: string; section?: string }[] {
  return ['src', 'test'].flatMap(sourceFiles).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(CITATION)].flatMap(([, page, sections]) => {
      const where = path.relative(ROOT, file);
      const numbers = [...(sections ?? '').matchAll(/§(\d+(?:\.\d+)?)/g)].map((m) => m[1]!);
      return numbers.length === 0
        ? [{ where, page: page! }]
        : numbers.map((section) => ({ where, page: page!, section }));
    }),
  );
}

describe('references to docs/', () => {
  const found = citations();

  it('are there to check (the code cites the docs)', () => {
    expect(found.length).toBeGreaterThan(20);
  });

  it('name a page in docs/ and a section it has', () => {
    const headings = new Map<string, string[]>();
    const missing = found.filter(({ page, section }) => {
      let pageHeadings = headings.get(page);
      if (!pageHeadings) {
        let text: string;
        try {
          text = readFileSync(path.join(ROOT, 'docs', page), 'utf8');
        } catch {
          return true;
        }
        pageHeadings = [...text.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1]!);
        headings.set(page, pageHeadings);
      }
      return section !== undefined && !pageHeadings.includes(section);
    });
    expect(missing).toEqual([]);
  });
});
