/**
 * The production image runs what it needs: the runtime stage copies every file the service reads
 * beside package.json, builds fail loudly, and compose gives the service an init process.
 * No Docker engine here, so the Dockerfile is read as text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

interface Instruction { readonly stage: string; readonly op: string; readonly args: string }

/** Instructions by stage, with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const out: Instruction[] = [];
  let stage = '';
  for (const line of logical) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage = /\sAS\s+(\S+)/i.exec(m[2]!)?.[1] ?? m[2]!;
    out.push({ stage, op, args: m[2]!.trim() });
  }
  return out;
}

/** Every file below `dir` (repository-relative), for the folders the image copies whole. */
function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** Where each `COPY <src>… <dest>` of the build context puts a repository file, if it copies it. */
function landing(copy: string, file: string, workdir: string): string | undefined {
  const parts = copy.split(/\s+/).filter((p) => !p.startsWith('--'));
  const dest = parts.pop()!;
  const destAbs = path.posix.resolve(workdir, dest);
  for (const raw of parts) {
    const src = raw.replace(/^\.\//, '').replace(/\/$/, '');
    if (file === src) return dest.endsWith('/') || parts.length > 1 ? path.posix.join(destAbs, path.posix.basename(file)) : destAbs;
    if (file.startsWith(`${src}/`)) return path.posix.join(destAbs, file.slice(src.length + 1));
  }
  return undefined;
}

/** .dockerignore, simply: exact names, folder prefixes and `*` within one path segment. */
function ignored(file: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    const re = new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`);
    return re.test(file) || (!p.includes('/') && file.split('/').some((seg) => re.test(seg)));
  });
}

const instructions = parseDockerfile(read('Dockerfile'));
const runtimeStage = instructions.filter((i) => i.op === 'FROM').at(-1)!.stage;
const runtime = instructions.filter((i) => i.stage === runtimeStage);
const workdir = runtime.filter((i) => i.op === 'WORKDIR').at(-1)?.args ?? '/';

/**
 * What src/ reads relative to the package root at run time. The scan below fails when code starts
 * reading another top-level entry, so this list (and the Dockerfile) cannot silently fall behind.
 */
const RUNTIME_FILES = ['package.json', ...filesUnder('migrations'), 'prompts/prompts.json'];

describe('Dockerfile runtime stage', () => {
  it('lists every top-level file or folder that src/ locates beside package.json', () => {
    const topLevel = new Set(readdirSync(ROOT).filter((n) => !['node_modules', '.git', 'src', 'dist', '.data'].includes(n)));
    const sources = filesUnder('src').filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const found = new Set<string>();
    for (const file of sources) {
      for (const call of read(file).matchAll(/path\.(?:join|resolve)\(([^)]*)\)/g)) {
        for (const lit of call[1]!.matchAll(/'([^']+)'/g)) {
          const first = lit[1]!.split('/')[0]!;
          if (topLevel.has(first)) found.add(first);
        }
      }
    }
    expect(found.size).toBeGreaterThan(0);
    const covered = new Set(RUNTIME_FILES.map((f) => f.split('/')[0]!));
    expect([...found].filter((f) => !covered.has(f)), 'src/ reads these at run time; copy them in the Dockerfile and list them here').toEqual([]);
  });

  it('copies each of those files to the same place beside package.json, and .dockerignore keeps them', () => {
    const copies = runtime.filter((i) => i.op === 'COPY' && !/--from=/.test(i.args)).map((i) => i.args);
    const dockerignore = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const missing = RUNTIME_FILES.filter((f) => !copies.some((c) => landing(c, f, workdir) === path.posix.join(workdir, f)));
    expect(missing, 'not copied into the runtime stage').toEqual([]);
    expect(RUNTIME_FILES.filter((f) => ignored(f, dockerignore)), 'excluded by .dockerignore').toEqual([]);
    expect(RUNTIME_FILES).toContain('migrations/0001_foundation.sql');
  });

  it('runs the compiled entry point with the production dependencies', () => {
    const fromStage = runtime.filter((i) => i.op === 'COPY' && /--from=/.test(i.args)).map((i) => i.args);
    expect(fromStage).toEqual(expect.arrayContaining(['--from=deps /app/node_modules ./node_modules', '--from=build /app/dist ./dist']));
    const main = (JSON.parse(read('package.json')) as { main: string }).main;
    const cmd = JSON.parse(runtime.find((i) => i.op === 'CMD')!.args) as string[];
    expect(cmd).toEqual(['node', main]);
    expect(runtime.some((i) => i.op === 'USER' && i.args !== 'root')).toBe(true);
  });

  it('never hides a failing command', () => {
    const runs = instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.filter((r) => /\|\|\s*(true|:)\b/.test(r) || /2>&1\s*>\s*\/dev\/null|>\s*\/dev\/null\s+2>&1/.test(r))).toEqual([]);
    // The folders the deps stage deletes are real packages of the lock file.
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, unknown> };
    const removed = runs.flatMap((r) => [...r.matchAll(/rm -rf ([^&;]+)/g)].flatMap((m) => m[1]!.trim().split(/\s+/)));
    expect(removed.length).toBeGreaterThan(0);
    for (const dir of removed) expect(Object.keys(lock.packages).some((k) => k === dir || k.startsWith(`${dir}/`)), dir).toBe(true);
  });
});

describe('docker/compose.yml', () => {
  it('runs the service behind an init process, as the Dockerfile says', () => {
    const compose = read('docker/compose.yml');
    const start = compose.indexOf('\n  hotline:\n');
    expect(start).toBeGreaterThan(0);
    const rest = compose.slice(start + 1);
    const end = rest.search(/\n(?: {2}\S|\S)/);
    const block = end === -1 ? rest : rest.slice(0, end);
    expect(block).toMatch(/^ {4}init: true$/m);
    expect(block).toMatch(/^ {6}dockerfile: Dockerfile$/m);
  });
});
