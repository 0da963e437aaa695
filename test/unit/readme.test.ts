/** The README's environment table and quick start stay true to the code. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const config = readFileSync(path.join(ROOT, 'src/config.ts'), 'utf8');

describe('README', () => {
  it('documents every environment variable that src/config.ts reads, and no other', () => {
    const read = new Set([...config.matchAll(/\((?:env|\{ \[name\]: part \}), '([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!));
    expect(read.size).toBeGreaterThan(30);
    const table = readme.slice(readme.indexOf('## Environment variables'), readme.indexOf('## Development'));
    const documented = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((x) => x[1]!)));
    expect([...read].filter((v) => !documented.has(v)), 'variables missing from the README table').toEqual([]);
    expect([...documented].filter((v) => !read.has(v)), 'README documents variables the code does not read').toEqual([]);
  });

  it('gives a two-command quick start that package.json supports on a fresh clone', () => {
    const quick = readme.slice(readme.indexOf('## Quick start'));
    const block = /```sh\n([\s\S]*?)```/.exec(quick)![1]!.trim().split('\n').map((l) => l.replace(/#.*$/, '').trim());
    expect(block).toEqual(['npm start', 'npm test']);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prestart).toContain('ensure-deps');
    expect(pkg.scripts.pretest).toContain('ensure-deps');
    expect(readFileSync(path.join(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
