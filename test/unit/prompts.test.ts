/**
 * The IVR prompt catalogue (prompts/prompts.json) and the audio generator
 * (scripts/generate-prompts.sh): the data validates, and when espeak-ng and sox are installed
 * every prompt renders to what Asterisk plays (8 kHz, mono, 16-bit WAV, audible length).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import {
  PROMPT_ID_PATTERN,
  PROMPT_LANGUAGES,
  REQUIRED_PROMPT_IDS,
  digitMediaUris,
  mandarinNumberPromptIds,
  parsePromptCatalog,
  parsePromptCatalogJson,
  promptMediaUri,
} from '../../src/domain/ivr/prompts.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const catalogText = readFileSync(path.join(root, 'prompts/prompts.json'), 'utf8');
const raw = JSON.parse(catalogText) as { version: number; prompts: Record<string, unknown>[] };

const problemsOf = (data: unknown): string[] => {
  try {
    parsePromptCatalog(data);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('invalid_prompt_catalog');
    return ((error as ValidationError).details?.problems as string[] | undefined) ?? [];
  }
  return [];
};
const withPrompts = (edit: (list: Record<string, unknown>[]) => void): unknown => {
  const copy = structuredClone(raw);
  edit(copy.prompts);
  return copy;
};

describe('prompts/prompts.json', () => {
  const catalog = parsePromptCatalogJson(catalogText);

  it('validates: unique, file-safe ids, both languages, every required prompt', () => {
    expect(catalog.ids.length).toBe(raw.prompts.length);
    expect(new Set(catalog.ids).size).toBe(catalog.ids.length);
    for (const id of catalog.ids) expect(id).toMatch(PROMPT_ID_PATTERN);
    for (const id of REQUIRED_PROMPT_IDS) expect(catalog.has(id), id).toBe(true);
    for (const p of catalog.prompts) for (const lang of PROMPT_LANGUAGES) expect(p[lang].length, `${p.id}.${lang}`).toBeGreaterThan(0);
  });

  it('carries the texts the hotline must say', () => {
    expect(catalog.text('greeting', 'zh')).toContain('您好，这里是12345政务服务便民热线');
    expect(catalog.text('menu-main', 'zh')).toContain('按0');
    expect(catalog.text('callback-offer', 'en')).toMatch(/keep your place.*called back.*press 1/i);
    expect(catalog.text('progress-enter-ticket', 'zh')).toContain('井号键');
    const survey = catalog.text('survey-intro', 'zh');
    expect(survey).toMatch(/满意请按1.*基本满意请按2.*不满意请按3/);
    for (const n of ['110', '119', '120', '122']) expect(catalog.text(`transfer-${n}`, 'zh')).toContain(n);
  });

  it('maps ids to Asterisk media in the hotline sound directory', () => {
    expect(promptMediaUri('greeting')).toBe('sound:hotline/greeting');
    expect(catalog.mediaUri('survey-intro')).toBe('sound:hotline/survey-intro');
    expect(digitMediaUris('2026')).toEqual(['sound:hotline/num-2', 'sound:hotline/num-0', 'sound:hotline/num-2', 'sound:hotline/num-6']);
    expect(() => promptMediaUri('../etc/passwd')).toThrow(ValidationError);
    expect(() => catalog.mediaUri('no-such-prompt')).toThrow(ValidationError);
    expect(() => digitMediaUris('12a')).toThrow(ValidationError);
  });
});

describe('Mandarin numbers from the num-* prompts', () => {
  const zh = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
  const words: Record<string, string> = { 'num-10': '十', 'num-100': '百', 'num-1000': '千', 'num-10000': '万' };
  const say = (n: number): string => mandarinNumberPromptIds(n).map((id) => words[id] ?? zh[Number(id.slice(4))]).join('');

  it.each([
    [0, '零'],
    [7, '七'],
    [10, '十'],
    [15, '十五'],
    [25, '二十五'],
    [100, '一百'],
    [105, '一百零五'],
    [115, '一百一十五'],
    [1005, '一千零五'],
    [1050, '一千零五十'],
    [2026, '二千零二十六'],
    [10000, '一万'],
    [10010, '一万零一十'],
    [120000, '十二万'],
    [1230045, '一百二十三万零四十五'],
    [99999999, '九千九百九十九万九千九百九十九'],
  ])('%i → %s', (n, expected) => {
    expect(say(n)).toBe(expected);
  });

  it('every id it returns is a catalogue prompt; out-of-range numbers are refused', () => {
    const catalog = parsePromptCatalogJson(catalogText);
    for (const n of [0, 9, 19, 101, 9999, 10001, 54321]) for (const id of mandarinNumberPromptIds(n)) expect(catalog.has(id)).toBe(true);
    for (const bad of [-1, 1.5, 100_000_000, Number.NaN]) expect(() => mandarinNumberPromptIds(bad)).toThrow(ValidationError);
  });
});

describe('catalogue validation refuses', () => {
  it.each([
    ['a duplicate id', (l: Record<string, unknown>[]) => l.push({ ...l[0] }), /duplicate id 'greeting'/],
    ['an id unsafe as a file name', (l: Record<string, unknown>[]) => (l[0]!.id = '../greeting'), /id must match/],
    ['an upper-case id', (l: Record<string, unknown>[]) => (l[0]!.id = 'Greeting'), /id must match/],
    ['a missing language', (l: Record<string, unknown>[]) => delete l[1]!.en, /recording-notice\.en must be a non-empty string/],
    ['Mandarin text without Chinese', (l: Record<string, unknown>[]) => (l[1]!.zh = 'hello'), /zh has no Chinese characters/],
    ['non-ASCII English text', (l: Record<string, unknown>[]) => (l[1]!.en = '您好'), /en must be printable ASCII/],
    ['a newline in a text', (l: Record<string, unknown>[]) => (l[1]!.en = 'a\nb'), /control characters/],
    ['an unknown field', (l: Record<string, unknown>[]) => (l[1]!.voice = 'x'), /unknown fields: voice/],
    ['dropping a required prompt', (l: Record<string, unknown>[]) => l.splice(l.findIndex((p) => p.id === 'survey-intro'), 1), /required prompt 'survey-intro' is missing/],
  ])('%s', (_name, edit, expected) => {
    const problems = problemsOf(withPrompts(edit));
    expect(problems.some((p) => expected.test(p)), problems.join('\n')).toBe(true);
  });

  it('a catalogue that is not JSON, or not an object', () => {
    expect(() => parsePromptCatalogJson('{')).toThrow(ValidationError);
    expect(problemsOf([])).toEqual(['not an object']);
    expect(problemsOf({ version: 1, prompts: [] })).toContain('prompts must be a non-empty array');
  });
});

const missingTools = ['espeak-ng', 'sox', 'soxi'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);

describe.skipIf(missingTools.length > 0)(
  `generated audio (scripts/generate-prompts.sh)${missingTools.length > 0 ? ` — skipped: ${missingTools.join(', ')} not on PATH (apt-get install espeak-ng sox)` : ''}`,
  () => {
    let out = '';
    let result: ReturnType<typeof spawnSync> | undefined;
    const catalog = parsePromptCatalogJson(catalogText);

    beforeAll(() => {
      out = mkdtempSync(path.join(tmpdir(), 'prompts-'));
      result = spawnSync('bash', [path.join(root, 'scripts/generate-prompts.sh'), '-o', out, '-j', '2'], { encoding: 'utf8', timeout: 170_000 });
    }, 180_000);
    afterAll(() => {
      if (out) rmSync(out, { recursive: true, force: true });
    });

    // One soxi run per property over all files: it prints one line per file, in order.
    const soxi = (flag: string, files: readonly string[]): string[] => {
      const r = spawnSync('soxi', [flag, ...files], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.length).toBe(files.length);
      return lines;
    };

    it('renders one file per prompt and language, nothing else', () => {
      expect(result?.status, String(result?.stderr)).toBe(0);
      for (const lang of PROMPT_LANGUAGES) {
        expect(readdirSync(path.join(out, lang)).sort()).toEqual(catalog.ids.map((id) => `${id}.wav`).sort());
      }
    });

    it.each(PROMPT_LANGUAGES)('%s: every file is 8000 Hz mono 16-bit WAV of audible length', (lang) => {
      const ids = catalog.ids;
      const files = ids.map((id) => path.join(out, lang, `${id}.wav`));
      const check = (flag: string, expected: string): void => {
        soxi(flag, files).forEach((v, i) => expect(v, `${ids[i]} ${flag}`).toBe(expected));
      };
      check('-t', 'wav');
      check('-r', '8000');
      check('-c', '1');
      check('-b', '16');
      // Padding alone is 0.4 s; a spoken word adds at least a few tenths.
      soxi('-D', files).forEach((v, i) => {
        expect(Number(v), ids[i]).toBeGreaterThan(0.6);
        expect(Number(v), ids[i]).toBeLessThan(30);
      });
    }, 30_000);

    it('longer texts give longer audio (the words were really spoken)', () => {
      const [survey, one] = soxi('-D', ['survey-intro', 'num-1'].map((id) => path.join(out, 'zh', `${id}.wav`))).map(Number);
      expect(survey!).toBeGreaterThan(one! * 3);
    });
  },
);
