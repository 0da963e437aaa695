/**
 * Every installed dependency runs on the oldest Node that package.json promises. cookie@2 (pulled
 * in by fastify → light-my-request, used by app.inject) is ESM-only and wants Node ≥ 22; the
 * "overrides" entry pins light-my-request to cookie@1, which has the same API.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string) => JSON.parse(readFileSync(path.join(ROOT, p), 'utf8')) as { engines?: { node?: string }; dependencies?: Record<string, string> };

/** The lowest version a simple `>=X.Y(.Z)` range allows, as [major, minor, patch]. */
function floor(range: string): [number, number, number] | undefined {
  const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}
const above = (a: readonly number[], b: readonly number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;

describe('Node engines', () => {
  const ours = floor(read('package.json').engines!.node!)!;

  it('light-my-request (app.inject) gets a cookie package that supports our oldest Node', () => {
    // The copy Node resolves from light-my-request: its own nested one, else the top-level one.
    const nested = path.join('node_modules', 'light-my-request', 'node_modules', 'cookie', 'package.json');
    const cookie = read(existsSync(path.join(ROOT, nested)) ? nested : path.join('node_modules', 'cookie', 'package.json'));
    const needs = floor(cookie.engines?.node ?? '>=0');
    expect(needs, `cookie engines ${cookie.engines?.node}`).toBeDefined();
    expect(above(ours, needs!), `package.json promises Node ${ours.join('.')}, cookie wants ${cookie.engines?.node}`).toBeGreaterThanOrEqual(0);
  });

  it('every direct dependency with a simple engines range supports our oldest Node', () => {
    const deps = Object.keys(read('package.json').dependencies ?? {});
    const tooNew = deps.flatMap((d) => {
      const needs = floor(read(path.join('node_modules', d, 'package.json')).engines?.node ?? '>=0');
      return needs && above(ours, needs) < 0 ? [`${d} wants >=${needs.join('.')}`] : [];
    });
    expect(tooNew).toEqual([]);
  });
});
