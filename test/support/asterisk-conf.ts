/**
 * A small reader for Asterisk .conf files, strict enough to catch the mistakes that make Asterisk
 * silently ignore a line, plus a dialplan model: extension pattern matching with Asterisk's
 * precedence, include resolution, and a static walk of Goto/GotoIf/Gosub to see which
 * applications a dialled number can reach.
 *
 * Supported syntax: `[section]`, `[name](!)` templates, `[name](tmpl,...)` inheritance,
 * `[name](+)` append, `key = value`, `key => value`, `;` comments (`\;` is a literal semicolon),
 * `;-- block --;` comments, `#include` / `#tryinclude` (resolved against search directories,
 * because the repository keeps files in dialplans/, sip/ and docker/asterisk/ while Asterisk
 * reads them flat from /etc/asterisk). `#exec` is refused.
 *
 * Pattern precedence follows ext_cmp() in Asterisk's main/pbx.c: literal extensions before
 * patterns; between patterns, position by position, the smaller character set wins, with `.`
 * and `!` last.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export class ConfError extends Error {
  constructor(message: string, readonly file: string, readonly line: number) {
    super(`${file}:${line}: ${message}`);
    this.name = 'ConfError';
  }
}

export interface ConfEntry {
  readonly key: string;
  readonly op: '=' | '=>';
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

export interface ConfSection {
  readonly name: string;
  readonly isTemplate: boolean;
  readonly templates: readonly string[];
  /** Own entries, in file order (appended `(+)` sections included). */
  readonly entries: ConfEntry[];
  readonly file: string;
  readonly line: number;
}

export interface ConfFile {
  readonly file: string;
  /** Every file read, the main one first, then includes in order. */
  readonly files: readonly string[];
  readonly sections: readonly ConfSection[];
}

export interface LoadOptions {
  /** Directories searched for #include targets (after the including file's own directory). */
  readonly searchDirs?: readonly string[];
}

/** Removes comments; `\;` stays as a literal semicolon. Tracks `;-- --;` block comments. */
function stripComments(line: string, state: { inBlock: boolean }): string {
  let out = '';
  let i = 0;
  while (i < line.length) {
    if (state.inBlock) {
      const end = line.indexOf('--;', i);
      if (end < 0) return out;
      state.inBlock = false;
      i = end + 3;
      continue;
    }
    const ch = line[i]!;
    if (ch === '\\' && line[i + 1] === ';') {
      out += ';';
      i += 2;
      continue;
    }
    if (ch === ';') {
      if (line.startsWith(';--', i)) {
        state.inBlock = true;
        i += 3;
        continue;
      }
      return out;
    }
    out += ch;
    i += 1;
  }
  return out;
}

function resolveInclude(name: string, fromFile: string, searchDirs: readonly string[]): string | undefined {
  const candidates = path.isAbsolute(name) ? [name] : [path.dirname(fromFile), ...searchDirs].map((d) => path.join(d, name));
  return candidates.find((c) => existsSync(c));
}

const SECTION = /^\[([^\]]+)\](?:\(([^)]*)\))?$/;
const INCLUDE = /^#(include|tryinclude)\s+(?:"([^"]+)"|<([^>]+)>|(\S+))$/;

export function loadConf(file: string, options: LoadOptions = {}): ConfFile {
  const sections: ConfSection[] = [];
  const files: string[] = [];
  const searchDirs = options.searchDirs ?? [];

  const readFile = (current: string, stack: readonly string[]): void => {
    if (stack.includes(current)) throw new ConfError(`#include loop through ${current}`, stack.at(-1) ?? current, 0);
    files.push(current);
    const lines = readFileSync(current, 'utf8').split(/\r?\n/);
    const state = { inBlock: false };
    lines.forEach((raw, index) => {
      const lineNo = index + 1;
      const line = stripComments(raw, state).trim();
      if (line === '') return;

      if (line.startsWith('#')) {
        const m = INCLUDE.exec(line);
        if (!m) throw new ConfError(`unsupported directive '${line}'`, current, lineNo);
        const target = m[2] ?? m[3] ?? m[4]!;
        const resolved = resolveInclude(target, current, searchDirs);
        if (!resolved) {
          if (m[1] === 'tryinclude') return;
          throw new ConfError(`#include target '${target}' not found`, current, lineNo);
        }
        readFile(resolved, [...stack, current]);
        return;
      }

      const sm = SECTION.exec(line);
      if (sm) {
        const name = sm[1]!.trim();
        const opts = (sm[2] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        if (opts.includes('+')) {
          if (opts.length > 1) throw new ConfError(`(+) cannot be combined with other options in [${name}]`, current, lineNo);
          const target = [...sections].reverse().find((s) => s.name === name);
          // Asterisk allows appending to a section defined later only in odd cases; we insist on order.
          if (!target) throw new ConfError(`[${name}](+) appends to a section that does not exist yet`, current, lineNo);
          sections.push({ name, isTemplate: target.isTemplate, templates: [], entries: target.entries, file: current, line: lineNo });
          return;
        }
        const templates = opts.filter((o) => o !== '!');
        for (const t of templates) {
          if (!sections.some((s) => s.name === t)) throw new ConfError(`[${name}] inherits from '${t}', which is not defined before it`, current, lineNo);
        }
        sections.push({ name, isTemplate: opts.includes('!'), templates, entries: [], file: current, line: lineNo });
        return;
      }

      const eq = line.indexOf('=');
      if (eq <= 0) throw new ConfError(`cannot parse '${line}'`, current, lineNo);
      const section = sections.at(-1);
      if (!section) throw new ConfError(`'${line}' is outside any section`, current, lineNo);
      const key = line.slice(0, eq).trim();
      const arrow = line[eq + 1] === '>';
      const value = line.slice(eq + (arrow ? 2 : 1)).trim();
      if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new ConfError(`bad key '${key}'`, current, lineNo);
      section.entries.push({ key, op: arrow ? '=>' : '=', value, file: current, line: lineNo });
    });
    if (state.inBlock) throw new ConfError('unterminated ;-- block comment', current, lines.length);
  };

  readFile(path.resolve(file), []);
  // Appended sections share their target's entry list; keep only the first occurrence.
  const unique = sections.filter((s, i) => sections.findIndex((o) => o.entries === s.entries) === i);
  return { file: path.resolve(file), files, sections: unique };
}

/**
 * Entries of a section with its templates applied (templates first, recursively, in the order
 * listed), as Asterisk builds the section. Multi-valued keys keep every value.
 */
export function resolvedEntries(conf: ConfFile, section: ConfSection): ConfEntry[] {
  const out: ConfEntry[] = [];
  for (const t of section.templates) {
    const index = conf.sections.indexOf(section);
    const template = [...conf.sections.slice(0, index)].reverse().find((s) => s.name === t);
    if (!template) throw new ConfError(`template '${t}' not found`, section.file, section.line);
    out.push(...resolvedEntries(conf, template));
  }
  out.push(...section.entries);
  return out;
}

/** Last value of a key (later values override earlier ones for single-valued options). */
export function value(entries: readonly ConfEntry[], key: string): string | undefined {
  return entries.filter((e) => e.key === key).at(-1)?.value;
}

export function values(entries: readonly ConfEntry[], key: string): string[] {
  return entries.filter((e) => e.key === key).map((e) => e.value);
}

/** Concrete (non-template) sections, resolved, optionally of one PJSIP `type`. */
export function objects(conf: ConfFile, type?: string): { name: string; entries: ConfEntry[] }[] {
  return conf.sections
    .filter((s) => !s.isTemplate)
    .map((s) => ({ name: s.name, entries: resolvedEntries(conf, s) }))
    .filter((o) => type === undefined || value(o.entries, 'type') === type);
}

// ------------------------------------------------------------------------------------------
// Dialplan
// ------------------------------------------------------------------------------------------

export interface Priority {
  readonly number: number;
  readonly label: string | undefined;
  readonly app: string;
  readonly args: string;
  readonly file: string;
  readonly line: number;
}

export interface Extension {
  readonly name: string;
  readonly priorities: Priority[];
}

export interface DialplanContext {
  readonly name: string;
  readonly extensions: Map<string, Extension>;
  readonly includes: string[];
}

export interface Dialplan {
  readonly globals: ReadonlyMap<string, string>;
  readonly contexts: ReadonlyMap<string, DialplanContext>;
}

/** Index of the first `sep` at nesting depth 0 of (), [], {} — or -1. */
export function indexAtTopLevel(text: string, sep: string, from = 0): number {
  let depth = 0;
  let quoted = false;
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') quoted = !quoted;
    if (quoted) continue;
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (depth === 0 && text.startsWith(sep, i)) return i;
  }
  return -1;
}

/** Splits at top-level separators (commas inside `${…}`, `$[…]` and `(…)` stay). */
export function splitTopLevel(text: string, sep = ','): string[] {
  const parts: string[] = [];
  let start = 0;
  for (;;) {
    const i = indexAtTopLevel(text, sep, start);
    if (i < 0) break;
    parts.push(text.slice(start, i));
    start = i + sep.length;
  }
  parts.push(text.slice(start));
  return parts;
}

function checkBalanced(text: string, file: string, line: number): void {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (quoted) continue;
    if (ch === '(' || ch === '[' || ch === '{') stack.push(ch);
    else if (ch in pairs) {
      if (stack.pop() !== pairs[ch]) throw new ConfError(`unbalanced '${ch}' in '${text}'`, file, line);
    }
  }
  if (stack.length > 0 || quoted) throw new ConfError(`unbalanced brackets or quotes in '${text}'`, file, line);
}

const APP = /^([A-Za-z][A-Za-z0-9_]*)(?:\((.*)\))?$/s;
const SPECIAL_SECTIONS = new Set(['general', 'globals']);

export function parseDialplan(conf: ConfFile): Dialplan {
  const globals = new Map<string, string>();
  const contexts = new Map<string, DialplanContext>();
  for (const section of conf.sections) {
    if (section.name === 'globals') {
      for (const e of section.entries) globals.set(e.key, e.value);
      continue;
    }
    if (SPECIAL_SECTIONS.has(section.name) || section.isTemplate) continue;
    if (contexts.has(section.name)) throw new ConfError(`context [${section.name}] defined twice`, section.file, section.line);
    const context: DialplanContext = { name: section.name, extensions: new Map(), includes: [] };
    contexts.set(section.name, context);
    let current: Extension | undefined;
    for (const e of resolvedEntries(conf, section)) {
      if (e.key === 'include') {
        context.includes.push(e.value);
        continue;
      }
      if (e.key !== 'exten' && e.key !== 'same') throw new ConfError(`unsupported dialplan key '${e.key}'`, e.file, e.line);
      let rest = e.value;
      if (e.key === 'exten') {
        const comma = rest.indexOf(',');
        if (comma < 0) throw new ConfError(`exten without priority: '${rest}'`, e.file, e.line);
        const name = rest.slice(0, comma).trim();
        if (name.includes('/')) throw new ConfError(`caller-ID matching is not supported here: '${name}'`, e.file, e.line);
        if (name.startsWith('_')) checkBalanced(name, e.file, e.line);
        current = context.extensions.get(name) ?? { name, priorities: [] };
        context.extensions.set(name, current);
        rest = rest.slice(comma + 1);
      } else if (!current) {
        throw new ConfError('same => without a preceding exten', e.file, e.line);
      }
      const comma = rest.indexOf(',');
      if (comma < 0) throw new ConfError(`priority without application: '${rest}'`, e.file, e.line);
      const prioText = rest.slice(0, comma).trim();
      const appText = rest.slice(comma + 1).trim();
      const pm = /^(\d+|n)(?:\(([A-Za-z0-9_-]+)\))?$/.exec(prioText);
      if (!pm) throw new ConfError(`bad priority '${prioText}'`, e.file, e.line);
      const last = current.priorities.at(-1)?.number ?? 0;
      const number = pm[1] === 'n' ? last + 1 : Number(pm[1]);
      if (current.priorities.some((p) => p.number === number)) throw new ConfError(`duplicate priority ${number} in ${current.name}`, e.file, e.line);
      if (pm[1] === 'n' && last === 0) throw new ConfError(`'n' priority before priority 1 in ${current.name}`, e.file, e.line);
      const label = pm[2];
      if (label && current.priorities.some((p) => p.label === label)) throw new ConfError(`duplicate label ${label} in ${current.name}`, e.file, e.line);
      checkBalanced(appText, e.file, e.line);
      const am = APP.exec(appText);
      if (!am) throw new ConfError(`cannot parse application '${appText}'`, e.file, e.line);
      current.priorities.push({ number, label, app: am[1]!, args: am[2] ?? '', file: e.file, line: e.line });
    }
    for (const ext of context.extensions.values()) {
      ext.priorities.sort((a, b) => a.number - b.number);
      if (ext.priorities[0]?.number !== 1) throw new ConfError(`extension ${ext.name} in [${context.name}] has no priority 1`, section.file, section.line);
    }
  }
  for (const context of contexts.values()) {
    for (const inc of context.includes) {
      if (!contexts.has(inc)) throw new ConfError(`[${context.name}] includes unknown context '${inc}'`, conf.file, 0);
    }
  }
  return { globals, contexts };
}

// ---- extension patterns --------------------------------------------------------------------

/** Does `pattern` (a literal extension or `_pattern`) match `number` exactly (E_MATCH)? */
export function extensionMatches(pattern: string, number: string): boolean {
  const data = number.replaceAll('-', '');
  if (!pattern.startsWith('_')) return pattern.replaceAll('-', '') === data;
  const p = pattern.slice(1);
  let pi = 0;
  let di = 0;
  for (;;) {
    // '-' is eye candy outside character sets (Asterisk skips it there).
    while (p[pi] === '-') pi++;
    if (di >= data.length || pi >= p.length) break;
    const c = p[pi]!;
    const d = data[di]!;
    switch (c) {
      case '[': {
        const end = p.indexOf(']', pi + 1);
        if (end < 0) throw new Error(`unterminated [ in ${pattern}`);
        const set = p.slice(pi + 1, end);
        if (set === '') {
          pi = end + 1;
          continue;
        }
        let hit = false;
        for (let k = 0; k < set.length; k++) {
          if (k + 2 < set.length && set[k + 1] === '-') {
            if (d >= set[k]! && d <= set[k + 2]!) hit = true;
            k += 2;
          } else if (d === set[k]) hit = true;
        }
        if (!hit) return false;
        pi = end;
        break;
      }
      case 'N':
      case 'n':
        if (d < '2' || d > '9') return false;
        break;
      case 'X':
      case 'x':
        if (d < '0' || d > '9') return false;
        break;
      case 'Z':
      case 'z':
        if (d < '1' || d > '9') return false;
        break;
      case '.':
        return true;
      case '!':
        return true;
      default:
        if (c !== d) return false;
    }
    pi++;
    di++;
  }
  if (di < data.length) return false;
  // Data used up: match if the pattern is finished or only '!' remains.
  return pi >= p.length || p[pi] === '!';
}

/** One position of a pattern: [weight, 256-bit set] as ext_cmp_pattern_pos computes it. */
function patternPosition(p: string, at: number): { weight: number; bits: Uint8Array; next: number } {
  const bits = new Uint8Array(32);
  let i = at;
  for (;;) {
    while (p[i] === '-') i++;
    const c = p[i];
    i++;
    const mark = (code: number): void => {
      bits[code >> 3] = bits[code >> 3]! | (1 << (7 - (code & 7)));
    };
    if (c === undefined) return { weight: 0x30000, bits, next: -1 };
    switch (c) {
      case 'n':
      case 'N':
        for (let k = 2; k <= 9; k++) mark(48 + k);
        return { weight: 0x0800 | 50, bits, next: i };
      case 'x':
      case 'X':
        for (let k = 0; k <= 9; k++) mark(48 + k);
        return { weight: 0x0a00 | 48, bits, next: i };
      case 'z':
      case 'Z':
        for (let k = 1; k <= 9; k++) mark(48 + k);
        return { weight: 0x0900 | 49, bits, next: i };
      case '.':
        return { weight: 0x18000, bits, next: i };
      case '!':
        return { weight: 0x28000, bits, next: i };
      case '[': {
        const end = p.indexOf(']', i);
        if (end < 0) return { weight: 0x40000, bits, next: -1 };
        let count = 0;
        let cmin = 0xff;
        for (let k = i; k < end; k++) {
          const c1 = p.charCodeAt(k);
          let c2 = c1;
          if (k + 2 < end && p[k + 1] === '-') {
            c2 = p.charCodeAt(k + 2);
            k += 2;
          }
          cmin = Math.min(cmin, c1);
          for (let ch = c1; ch <= c2; ch++) {
            const mask = 1 << (7 - (ch & 7));
            if (!(bits[ch >> 3]! & mask)) {
              bits[ch >> 3] = bits[ch >> 3]! | mask;
              count += 0x100;
            }
          }
        }
        i = end + 1;
        if (count === 0) continue; // empty sets are ignored
        return { weight: count | cmin, bits, next: i };
      }
      default:
        mark(c.charCodeAt(0));
        return { weight: 0x0100 | c.charCodeAt(0), bits, next: i };
    }
  }
}

function comparePatterns(left: string, right: string): number {
  let li = 0;
  let ri = 0;
  for (;;) {
    const l = patternPosition(left, li);
    const r = patternPosition(right, ri);
    let cmp = l.weight - r.weight;
    if (cmp === 0) {
      for (let k = 0; k < 32 && cmp === 0; k++) cmp = r.bits[k]! - l.bits[k]!;
    }
    if (cmp !== 0 || l.next < 0) return cmp;
    li = l.next;
    ri = r.next;
  }
}

/** Asterisk's sort order of extensions (ext_cmp): negative when `a` is tried before `b`. */
export function compareExtensions(a: string, b: string): number {
  const ap = a.startsWith('_');
  const bp = b.startsWith('_');
  if (!ap && !bp) return a < b ? -1 : a > b ? 1 : 0;
  if (!ap) return -1;
  if (!bp) return 1;
  return comparePatterns(a.slice(1), b.slice(1));
}

export interface Match {
  readonly context: string;
  readonly extension: Extension;
}

/** The extension Asterisk runs for `number` dialled in `context` (own extensions, then includes). */
export function findExtension(dialplan: Dialplan, contextName: string, number: string, seen: Set<string> = new Set()): Match | undefined {
  if (seen.has(contextName)) return undefined;
  seen.add(contextName);
  const context = dialplan.contexts.get(contextName);
  if (!context) return undefined;
  const candidates = [...context.extensions.values()].filter((e) => extensionMatches(e.name, number)).sort((a, b) => compareExtensions(a.name, b.name));
  if (candidates[0]) return { context: contextName, extension: candidates[0] };
  for (const inc of context.includes) {
    const found = findExtension(dialplan, inc, number, seen);
    if (found) return found;
  }
  return undefined;
}

// ---- static flow -----------------------------------------------------------------------------

export interface Step {
  readonly context: string;
  /** The concrete extension string dialled (what ${EXTEN} holds). */
  readonly exten: string;
  readonly pattern: string;
  readonly priority: Priority;
}

/** Replaces ${EXTEN} and ${EXTEN:offset[:length]} with the dialled string. */
export function substituteExten(text: string, exten: string): string {
  return text.replace(/\$\{EXTEN(?::(-?\d+)(?::(-?\d+))?)?\}/g, (_m, off?: string, len?: string) => {
    if (off === undefined) return exten;
    let start = Number(off);
    if (start < 0) start = Math.max(0, exten.length + start);
    const tail = exten.slice(start);
    if (len === undefined) return tail;
    const n = Number(len);
    return n >= 0 ? tail.slice(0, n) : tail.slice(0, Math.max(0, tail.length + n));
  });
}

type Target = { context: string; exten: string; priority: string };

function parseTarget(spec: string, context: string, exten: string): Target | undefined {
  const parts = splitTopLevel(substituteExten(spec.trim(), exten)).map((s) => s.trim());
  let target: Target;
  if (parts.length === 1) target = { context, exten, priority: parts[0]! };
  else if (parts.length === 2) target = { context, exten: parts[0]!, priority: parts[1]! };
  else if (parts.length === 3) target = { context: parts[0]!, exten: parts[1]!, priority: parts[2]! };
  else return undefined;
  // Only literal targets can be followed statically.
  if (Object.values(target).some((v) => v.includes('${') || v.includes('$[') || v === '')) return undefined;
  return target;
}

/**
 * Every priority reachable from dialling `number` in `context`, following the next priority,
 * Goto, both outcomes of GotoIf, and Gosub (into the subroutine and on after it). Targets that
 * depend on run-time values other than ${EXTEN} are not followed.
 */
export function walk(dialplan: Dialplan, context: string, number: string): Step[] {
  const steps: Step[] = [];
  const visited = new Set<string>();
  const queue: { context: string; exten: string; priority: string }[] = [{ context, exten: number, priority: '1' }];
  while (queue.length > 0) {
    const at = queue.shift()!;
    const match = findExtension(dialplan, at.context, at.exten);
    if (!match) continue;
    const list = match.extension.priorities;
    let index = /^\d+$/.test(at.priority) ? list.findIndex((p) => p.number === Number(at.priority)) : list.findIndex((p) => p.label === at.priority);
    if (index < 0) continue;
    while (index < list.length) {
      const prio = list[index]!;
      const key = `${match.context}|${at.exten}|${prio.number}`;
      if (visited.has(key)) break;
      visited.add(key);
      steps.push({ context: match.context, exten: at.exten, pattern: match.extension.name, priority: prio });
      const app = prio.app.toLowerCase();
      let fallsThrough = true;
      if (app === 'goto') {
        const t = parseTarget(prio.args, match.context, at.exten);
        if (t) queue.push(t);
        fallsThrough = false;
      } else if (app === 'gotoif') {
        const q = indexAtTopLevel(prio.args, '?');
        const branches = q < 0 ? [] : splitTopLevel(prio.args.slice(q + 1), ':');
        const [onTrue = '', onFalse = ''] = branches;
        for (const branch of [onTrue, onFalse]) {
          if (branch.trim() === '') continue;
          const t = parseTarget(branch, match.context, at.exten);
          if (t) queue.push(t);
        }
        fallsThrough = onTrue.trim() === '' || onFalse.trim() === '';
      } else if (app === 'gosub') {
        const paren = prio.args.indexOf('(');
        const t = parseTarget(paren < 0 ? prio.args : prio.args.slice(0, paren), match.context, at.exten);
        if (t) queue.push(t);
      } else if (app === 'hangup' || app === 'return') {
        fallsThrough = false;
      }
      if (!fallsThrough) break;
      index++;
    }
  }
  return steps;
}

// ------------------------------------------------------------------------------------------
// Shipped settings other tests run against
// ------------------------------------------------------------------------------------------

/** The `write` classes of a manager.conf user as shipped (docker/asterisk/manager.conf by default). */
export function managerWrite(user = 'hotline', file = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docker/asterisk/manager.conf')): string {
  const section = loadConf(file).sections.find((s) => s.name === user);
  if (!section) throw new ConfError(`no [${user}] in ${file}`, file, 0);
  const write = value(section.entries, 'write');
  if (write === undefined) throw new ConfError(`[${user}] has no write =`, file, section.line);
  return write;
}
