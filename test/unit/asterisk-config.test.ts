/**
 * The shipped Asterisk configuration against the contract the service relies on
 * (src/domain/telephony/asterisk-contract.ts): contexts, Stasis entries, case headers,
 * toll-fraud allow-list, PJSIP objects, ARI/HTTP/AMI settings and secret placeholders.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AFTER_STASIS_EXTENSION,
  AGENT_ENDPOINT_PREFIX,
  AGENT_FEATURE_CODES,
  ARI_CHANNEL_VARS,
  CASE_HEADERS,
  DEFAULT_TRUNK_ENDPOINT,
  DIALPLAN_CONTEXTS,
  ECHO_TEST_CODE,
  HOTLINE_NUMBER,
  STASIS_APP,
  STASIS_ARGS,
  agentEndpoint,
  agentExtensionOfChannel,
  afterStasisTarget,
  outboundEndpoint,
  parseStasisArgs,
} from '../../src/domain/telephony/asterisk-contract.js';
import { ValidationError } from '../../src/domain/errors.js';
import { AMI_ACTIONS_USED } from '../../src/adapters/ami/index.js';
import { DEFAULT_IDLE_SOCKET_MS } from '../../src/adapters/ari/index.js';
import { parsePermissions, permits } from '../fake-asterisk/ami-privileges.js';
import {
  ConfError,
  compareExtensions,
  extensionMatches,
  findExtension,
  loadConf,
  objects,
  parseDialplan,
  value,
  values,
  walk,
  type ConfFile,
  type Dialplan,
  type Step,
} from '../support/asterisk-conf.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs = {
  dialplans: path.join(root, 'dialplans'),
  sip: path.join(root, 'sip'),
  asterisk: path.join(root, 'docker/asterisk'),
};
// Asterisk reads all of them flat from /etc/asterisk; includes resolve across the three.
const searchDirs = Object.values(dirs);
const load = (dir: string, file: string): ConfFile => loadConf(path.join(dir, file), { searchDirs });

const extensions = load(dirs.dialplans, 'extensions.conf');
const dialplan: Dialplan = parseDialplan(extensions);
const pjsip = load(dirs.sip, 'pjsip.conf');
const acl = load(dirs.sip, 'acl.conf');
const ari = load(dirs.asterisk, 'ari.conf');
const http = load(dirs.asterisk, 'http.conf');
const manager = load(dirs.asterisk, 'manager.conf');
const modules = load(dirs.asterisk, 'modules.conf');

const stasis = (...args: string[]): string => [STASIS_APP, ...args].join(',');
const apps = (steps: readonly Step[], app: string): Step[] => steps.filter((s) => s.priority.app.toLowerCase() === app.toLowerCase());
const reachesStasis = (steps: readonly Step[], args: string): boolean => apps(steps, 'Stasis').some((s) => s.priority.args === args);
const section = (conf: ConfFile, name: string) => {
  const found = conf.sections.find((s) => s.name === name);
  if (!found) throw new Error(`[${name}] missing in ${conf.file}`);
  return found.entries;
};

describe('every shipped .conf file parses', () => {
  const files = Object.values(dirs).flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.conf')).map((f) => path.join(dir, f)));
  // Fragments (pjsip-agents.conf, extensions-outbound.conf …) use their includer's templates, so
  // they are parsed as part of it, as Asterisk reads them.
  const included = new Set(files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^#(?:try)?include\s+"([^"]+)"/gm)].map((m) => m[1]!)));
  const roots = files.filter((f) => !included.has(path.basename(f)));

  it.each(files.map((f) => [path.relative(root, f), f]))('%s', (_name, file) => {
    const owners = roots.map((r) => loadConf(r, { searchDirs })).filter((c) => c.files.includes(file));
    expect(owners.length, 'parsed on its own or through exactly one includer').toBe(1);
    expect(owners[0]!.sections.some((s) => s.file === file)).toBe(true);
  });

  it('the dialplan parses into contexts, with includes that exist', () => {
    expect(dialplan.contexts.size).toBeGreaterThan(5);
    expect(extensions.files.map((f) => path.basename(f))).toContain('extensions-outbound.conf');
  });

  it('the parser rejects what Asterisk would silently misread', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'conf-'));
    try {
      const bad = (text: string): (() => unknown) => () => {
        writeFileSync(path.join(tmp, 'x.conf'), text);
        return parseDialplan(loadConf(path.join(tmp, 'x.conf')));
      };
      expect(bad('exten => 1,1,NoOp()\n')).toThrow(ConfError);
      expect(bad('[c]\nexten => 1,1,Set(A=${B)\n')).toThrow(/unbalanced/);
      expect(bad('[c]\nsame => n,NoOp()\n')).toThrow(/same =>/);
      expect(bad('[c]\nexten => 1,1,NoOp()\nexten => 1,1,NoOp()\n')).toThrow(/duplicate priority/);
      expect(bad('[c](missing)\nexten => 1,1,NoOp()\n')).toThrow(/not defined/);
      expect(bad('[c]\n#include "nope.conf"\n')).toThrow(/not found/);
      expect(bad('[c]\ninclude => nowhere\n')).toThrow(/unknown context/);
      writeFileSync(path.join(tmp, 'y.conf'), '[t](!)\na=1 ; comment\n;-- block\nb=2 --;\n[s](t)\nc=x\\;y\n[s](+)\nd=4\n#tryinclude "absent.conf"\n');
      const conf = loadConf(path.join(tmp, 'y.conf'));
      const s = objects(conf).find((o) => o.name === 's')!;
      expect(s.entries.map((e) => `${e.key}=${e.value}`)).toEqual(['a=1', 'c=x;y', 'd=4']);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('extension pattern matcher (Asterisk semantics)', () => {
  it.each([
    ['_X.', '1', false],
    ['_X.', '12', true],
    ['_NXX', '234', true],
    ['_NXX', '134', false],
    ['_ZX', '10', true],
    ['_ZX', '01', false],
    ['_[1-5]', '5', true],
    ['_[1-5]', '6', false],
    ['_1[3-57-9]X', '16', false],
    ['_1[3-57-9]X', '173', true],
    ['_9!', '9', true],
    ['_9!', '9123', true],
    ['_*1X', '*11', true],
    ['_+86ZX12345', '+861012345', true],
    ['12345', '12345', true],
    ['12345', '1234', false],
  ] as const)('%s vs %s → %s', (pattern, number, expected) => {
    expect(extensionMatches(pattern, number)).toBe(expected);
  });

  it('orders like ext_cmp: literal first, then the smaller character set, wildcards last', () => {
    const sorted = ['_X.', '_12XXX', '_1[2]XXX', '12345', '_X!', '_NXXXX'].sort(compareExtensions);
    expect(sorted[0]).toBe('12345');
    expect(sorted.indexOf('_12XXX')).toBeLessThan(sorted.indexOf('_NXXXX'));
    expect(sorted.indexOf('_NXXXX')).toBeLessThan(sorted.indexOf('_X.'));
    expect(sorted.indexOf('_X.')).toBeLessThan(sorted.indexOf('_X!'));
  });
});

describe('contract constants', () => {
  it('builds the endpoints the service dials', () => {
    expect(agentEndpoint('1001')).toBe('PJSIP/agent1001');
    expect(() => agentEndpoint('1001@trunk')).toThrow(ValidationError);
    expect(outboundEndpoint('13812345678')).toBe(`Local/13812345678@${DIALPLAN_CONTEXTS.outbound}/n`);
    expect(() => outboundEndpoint('138@trunk')).toThrow(ValidationError);
    expect(() => outboundEndpoint('1&PJSIP/x')).toThrow(ValidationError);
    expect(afterStasisTarget('from-trunk')).toEqual({ context: 'from-trunk', extension: 'after-stasis', priority: 1 });
  });

  it('parses Stasis arguments and refuses unknown ones', () => {
    expect(parseStasisArgs(['inbound'])).toEqual({ kind: 'inbound' });
    expect(parseStasisArgs(['feature', 'ready'])).toEqual({ kind: 'feature', feature: 'ready' });
    expect(() => parseStasisArgs(['feature', 'dial'])).toThrow(ValidationError);
    expect(() => parseStasisArgs([])).toThrow(ValidationError);
  });

  it('tells an agent phone\'s extension from its channel name, and nothing else', () => {
    expect(agentExtensionOfChannel('PJSIP/agent1001-00000002')).toBe('1001');
    for (const name of ['PJSIP/trunk-00000001', 'PJSIP/agent100-00000001', 'PJSIP/agent10011-00000001', 'Local/1001@agents-00000001;1', 'PJSIP/agent1001']) {
      expect(agentExtensionOfChannel(name)).toBeUndefined();
    }
  });

  it('the header rules accept what the dialplan filter lets through and nothing else', () => {
    for (const rule of CASE_HEADERS) {
      expect(rule.pattern.test('x'.repeat(rule.maxLength + 1))).toBe(false);
      expect(rule.pattern.test('a;b')).toBe(false);
    }
  });
});

describe('dialplan: contexts the service expects', () => {
  it.each(Object.values(DIALPLAN_CONTEXTS))('[%s] exists', (name) => {
    expect(dialplan.contexts.has(name)).toBe(true);
  });

  it('every Stasis() uses the app name and a known entry argument', () => {
    const known = new Set<string>(Object.values(STASIS_ARGS));
    for (const ctx of dialplan.contexts.values()) {
      for (const ext of ctx.extensions.values()) {
        for (const p of ext.priorities.filter((q) => q.app === 'Stasis')) {
          const [app, first] = p.args.split(',');
          expect(app, `${ctx.name}/${ext.name}`).toBe(STASIS_APP);
          expect(known.has(first ?? ''), `${ctx.name}/${ext.name}: ${p.args}`).toBe(true);
        }
      }
    }
  });
});

describe('dialplan: [from-trunk]', () => {
  const trunk = DIALPLAN_CONTEXTS.trunk;

  it(`${HOTLINE_NUMBER} is a literal extension that hands the call to Stasis(${STASIS_APP},inbound)`, () => {
    const ext = dialplan.contexts.get(trunk)!.extensions.get(HOTLINE_NUMBER)!;
    expect(ext.priorities.some((p) => p.app === 'Stasis' && p.args === stasis(STASIS_ARGS.inbound))).toBe(true);
    expect(ext.priorities.findIndex((p) => p.app === 'Gosub')).toBeLessThan(ext.priorities.findIndex((p) => p.app === 'Stasis'));
  });

  it.each(['12345', '075512345', '01012345', '02112345', '+8612345', '+8675512345', '+861012345', '8675512345', 's'])(
    'the alias %s reaches Stasis inbound',
    (number) => {
      expect(reachesStasis(walk(dialplan, trunk, number), stasis(STASIS_ARGS.inbound))).toBe(true);
    },
  );

  it.each(['12346', '075512346', '110', '13812345678', '+12125551234'])('%s is not ours: only an extra DID from [globals] could route it', (number) => {
    const match = findExtension(dialplan, trunk, number)!;
    expect(['_X.', '_+X.']).toContain(match.extension.name);
    // The only way from the catch-all to the hotline is the extra-DID check against [globals].
    const gotoIfs = match.extension.priorities.filter((p) => p.app === 'GotoIf' && p.args.includes(`?${HOTLINE_NUMBER},`));
    for (const p of gotoIfs) expect(p.args).toContain('${HOTLINE_EXTRA_DIDS}');
    const steps = walk(dialplan, trunk, number);
    expect(apps(steps, 'Hangup').some((s) => s.context === 'hotline-reject')).toBe(true);
  });

  it('aliases are configurable in [globals] and default to accepting any area code', () => {
    expect(dialplan.globals.has('HOTLINE_AREA_CODES')).toBe(true);
    expect(dialplan.globals.has('HOTLINE_EXTRA_DIDS')).toBe(true);
    expect(dialplan.globals.get('HOTLINE_LANGUAGE')).toBe('zh');
  });

  it.each([DIALPLAN_CONTEXTS.trunk, DIALPLAN_CONTEXTS.emergency, DIALPLAN_CONTEXTS.partner])(
    `[%s] has ${AFTER_STASIS_EXTENSION} re-entering as Stasis(${STASIS_APP},returned)`,
    (context) => {
      const target = afterStasisTarget(context);
      expect(reachesStasis(walk(dialplan, target.context, target.extension), stasis(STASIS_ARGS.returned))).toBe(true);
    },
  );
});

describe('dialplan: transfers in from [from-emergency] and [from-partner]', () => {
  const dialplanText = extensions.files.map((f) => readFileSync(f, 'utf8')).join('\n');

  it.each([
    [DIALPLAN_CONTEXTS.emergency, 'emergency'],
    [DIALPLAN_CONTEXTS.partner, 'utility'],
  ])('[%s] reads the case headers, then Stasis transfer-in', (context, kind) => {
    for (const dialled of ['s', '12345', '911', '+8612345']) {
      const steps = walk(dialplan, context, dialled);
      expect(reachesStasis(steps, stasis(STASIS_ARGS.transferIn)), `${context}/${dialled}`).toBe(true);
    }
    const entry = dialplan.contexts.get(context)!.extensions.get('s')!.priorities;
    const gosub = entry.findIndex((p) => p.app === 'Gosub' && p.args.startsWith('hotline-case-headers,') && p.args.includes(`(${kind})`));
    expect(gosub).toBeGreaterThanOrEqual(0);
    expect(gosub).toBeLessThan(entry.findIndex((p) => p.app === 'Stasis'));

    const sets = apps(walk(dialplan, context, 's'), 'Set').map((s) => s.priority.args);
    for (const rule of CASE_HEADERS) {
      const read = `${rule.variable}=\${FILTER(${rule.dialplanFilter},\${PJSIP_HEADER(read,${rule.header})})}`;
      const cap = `${rule.variable}=\${${rule.variable}:0:${rule.maxLength}}`;
      expect(sets, rule.header).toContain(read);
      expect(sets.indexOf(cap), `${rule.header} length cap`).toBeGreaterThan(sets.indexOf(read));
    }
    expect(sets).toContain('TRANSFER_KIND=emergency');
  });

  it('no header is ever read without FILTER()', () => {
    const reads = dialplanText.match(/PJSIP_HEADER\(read,/g) ?? [];
    const filtered = dialplanText.match(/\$\{FILTER\([^,]+,\$\{PJSIP_HEADER\(read,[^)]+\)\}\)\}/g) ?? [];
    expect(reads.length).toBeGreaterThan(0);
    expect(filtered.length).toBe(reads.length);
  });

  it('the FILTER character sets allow nothing the service pattern refuses', () => {
    // Expand each FILTER set the way func_strings does and check each character against the rule.
    for (const rule of CASE_HEADERS) {
      const set = rule.dialplanFilter;
      const allowed: string[] = [];
      for (let i = 0; i < set.length; i++) {
        let c = set[i]!;
        if (c === '\\') c = set[++i]!;
        if (set[i + 1] === '-' && i + 2 < set.length && set[i + 2] !== undefined && set[i + 2] !== '\\') {
          for (let code = c.charCodeAt(0); code <= set.charCodeAt(i + 2); code++) allowed.push(String.fromCharCode(code));
          i += 2;
        } else allowed.push(c);
      }
      expect(allowed.length).toBeGreaterThan(3);
      // Positional rules (a leading + on numbers) are the service's business; every character
      // must be acceptable somewhere.
      for (const ch of allowed) expect([ch, `${ch}123`, `123${ch}`].some((v) => rule.pattern.test(v)), `${rule.header} '${ch}'`).toBe(true);
      for (const ch of [';', ',', '"', "'", ' ', '$', '{', '(', '\\', '^', '|', '&', '<']) expect(allowed, `${rule.header} must not let '${ch}' through`).not.toContain(ch);
    }
  });
});

describe('dialplan: [agents]', () => {
  const agents = DIALPLAN_CONTEXTS.agents;

  it('agents call each other on PJSIP/agent<ext>', () => {
    const dials = apps(walk(dialplan, agents, '1002'), 'Dial');
    expect(dials.length).toBe(1);
    expect(dials[0]!.priority.args.startsWith(`PJSIP/${AGENT_ENDPOINT_PREFIX}\${EXTEN}`)).toBe(true);
  });

  it('agents reach the hotline', () => {
    expect(reachesStasis(walk(dialplan, agents, HOTLINE_NUMBER), stasis(STASIS_ARGS.inbound))).toBe(true);
  });

  it.each(Object.entries(AGENT_FEATURE_CODES))('feature code %s → Stasis feature %s', (code, feature) => {
    expect(reachesStasis(walk(dialplan, agents, code), stasis(STASIS_ARGS.feature, feature))).toBe(true);
  });

  it('the echo test stays in the dialplan', () => {
    expect(apps(walk(dialplan, agents, ECHO_TEST_CODE), 'Echo').length).toBe(1);
  });

  it.each(['13812345678', '075588881234', '88881234', '110', '0012125551234', '+8613812345678', '16812345', '*99', '10086'])(
    'an agent phone cannot dial %s out',
    (number) => {
      const steps = walk(dialplan, agents, number);
      expect(apps(steps, 'Dial')).toEqual([]);
      expect(steps.some((s) => s.context.startsWith('hotline-outbound'))).toBe(false);
      expect(apps(steps, 'Hangup').length).toBeGreaterThan(0);
    },
  );
});

describe('dialplan: [hotline-outbound] allow-list (toll-fraud protection)', () => {
  const outbound = DIALPLAN_CONTEXTS.outbound;
  const dialled = (number: string): Step[] => apps(walk(dialplan, outbound, number), 'Dial');

  it.each([
    ['110', 'police'],
    ['119', 'fire'],
    ['120', 'ambulance'],
    ['122', 'traffic police'],
    ['12315', 'market regulation hotline'],
    ['95598', 'power utility'],
    ['96777', 'local gas line'],
    ['961234', 'six-digit local service number'],
    ['10086', 'telecom operator'],
    ['13812345678', 'mobile'],
    ['19912345678', 'mobile'],
    ['16612345678', 'mobile 166'],
    ['88881234', 'local fixed, 8 digits'],
    ['5551234', 'local fixed, 7 digits'],
    ['01088881234', 'Beijing fixed line'],
    ['02188881234', 'Shanghai fixed line'],
    ['075588881234', 'Shenzhen fixed line'],
    ['07553881234', '0XXX + 7 digits'],
    ['+8613812345678', '+86 mobile'],
    ['+8675588881234', '+86 fixed line'],
  ])('allows %s (%s)', (number) => {
    const dials = dialled(number);
    expect(dials.length).toBeGreaterThan(0);
    for (const d of dials) expect(d.priority.args).toMatch(/^PJSIP\/(\$\{OUTBOUND_PREFIX\}\$\{ARG1\}@\$\{OUTBOUND_TRUNK\}|\$\{ARG1\}@\$\{ARG2\}),/);
  });

  it.each([
    ['0012125551234', 'international'],
    ['00861381234567', 'international, even to +86'],
    ['+12125551234', 'international E.164'],
    ['+447700900123', 'international E.164'],
    ['16812345', '168 information service'],
    ['1601234', '160 information service'],
    ['16812345678', '168 in mobile format'],
    ['16012345678', '160 in mobile format'],
    ['+8616812345678', '168 behind +86'],
    ['075516812345', '168 behind an area code'],
    ['075596123456', 'service prefix behind an area code'],
    ['12345', 'ourselves (loop)'],
    ['114', 'directory enquiries'],
    ['95', 'short'],
    ['900123456', 'unknown 9xx'],
    ['1234', 'agent extension'],
    ['12', 'short'],
  ])('refuses %s (%s)', (number) => {
    const steps = walk(dialplan, outbound, number);
    expect(apps(steps, 'Dial')).toEqual([]);
    expect(apps(steps, 'Hangup').some((s) => s.context === 'hotline-reject')).toBe(true);
  });

  it('the dial subroutine re-checks its argument and limits simultaneous calls', () => {
    const dial = dialplan.contexts.get('hotline-outbound-dial')!;
    expect([...dial.extensions.keys()]).toEqual(['s']);
    const prios = dial.extensions.get('s')!.priorities;
    expect(prios[0]!.app).toBe('GotoIf');
    expect(prios[0]!.args).toContain('REGEX("^[0-9]+$" ${ARG1})');
    expect(prios.some((p) => p.args.startsWith('GROUP('))).toBe(true);
    expect(prios.some((p) => p.args.includes('GROUP_COUNT(') && p.args.includes('${OUTBOUND_MAX_CHANNELS}'))).toBe(true);
  });

  it('nothing but the service can reach it: no endpoint context, no include', () => {
    for (const ctx of dialplan.contexts.values()) {
      for (const inc of ctx.includes) expect(inc.startsWith('hotline-outbound'), `[${ctx.name}] includes ${inc}`).toBe(false);
    }
    for (const ep of objects(pjsip, 'endpoint')) expect(value(ep.entries, 'context')?.startsWith('hotline-outbound'), ep.name).toBe(false);
  });

  it('the trunk and the direct lines named in [globals] exist as endpoints with a contact', () => {
    const endpoints = new Set(objects(pjsip, 'endpoint').map((e) => e.name));
    const aors = new Map(objects(pjsip, 'aor').map((a) => [a.name, a.entries]));
    expect(dialplan.globals.get('OUTBOUND_TRUNK')).toBe(DEFAULT_TRUNK_ENDPOINT);
    for (const key of ['OUTBOUND_TRUNK', 'LINE_110', 'LINE_119', 'LINE_120', 'LINE_122']) {
      const name = dialplan.globals.get(key)!;
      expect(endpoints.has(name), `${key}=${name}`).toBe(true);
      expect(value(aors.get(name) ?? [], 'contact'), `${key} contact`).toMatch(/^sip:/);
    }
  });
});

describe('sip/pjsip.conf', () => {
  const endpoints = objects(pjsip, 'endpoint');
  const byName = (type: string) => new Map(objects(pjsip, type).map((o) => [o.name, o.entries]));

  it('has UDP, TCP and TLS transports, TLS with certificate paths', () => {
    const transports = objects(pjsip, 'transport');
    const protocols = transports.map((t) => value(t.entries, 'protocol'));
    expect(protocols).toEqual(expect.arrayContaining(['udp', 'tcp', 'tls']));
    const tls = transports.find((t) => value(t.entries, 'protocol') === 'tls')!;
    expect(value(tls.entries, 'cert_file')).toMatch(/^\/etc\/asterisk\/keys\//);
    expect(value(tls.entries, 'priv_key_file')).toMatch(/^\/etc\/asterisk\/keys\//);
  });

  it('applies a deny-by-default ACL to all SIP traffic', () => {
    const acls = objects(pjsip, 'acl');
    expect(acls.length).toBe(1);
    const named = value(acls[0]!.entries, 'acl')!;
    const rules = section(acl, named);
    expect(rules[0]).toMatchObject({ key: 'deny', value: '0.0.0.0/0.0.0.0' });
    expect(values(rules, 'permit').length).toBeGreaterThan(0);
    // The carrier's addresses must be permitted, or its calls never arrive.
    const trunkMatches = objects(pjsip, 'identify').filter((i) => value(i.entries, 'endpoint') === DEFAULT_TRUNK_ENDPOINT).flatMap((i) => values(i.entries, 'match'));
    for (const ip of trunkMatches) expect(values(rules, 'permit')).toContain(`${ip}/255.255.255.255`);
  });

  it('the carrier trunk is identified by IP and lands in [from-trunk]', () => {
    const trunk = endpoints.find((e) => e.name === DEFAULT_TRUNK_ENDPOINT)!;
    expect(value(trunk.entries, 'context')).toBe(DIALPLAN_CONTEXTS.trunk);
    expect(value(trunk.entries, 'identify_by')).toBe('ip');
    expect(value(trunk.entries, 'auth')).toBeUndefined();
    const identify = objects(pjsip, 'identify').filter((i) => value(i.entries, 'endpoint') === DEFAULT_TRUNK_ENDPOINT);
    expect(identify.flatMap((i) => values(i.entries, 'match')).length).toBeGreaterThan(0);
  });

  it('agents 1001..1003 use the agent template: digest auth, one contact, context agents', () => {
    const auths = byName('auth');
    const aors = byName('aor');
    for (const ext of ['1001', '1002', '1003']) {
      const name = agentEndpoint(ext).slice('PJSIP/'.length);
      const ep = endpoints.find((e) => e.name === name)!;
      expect(ep, name).toBeDefined();
      expect(value(ep.entries, 'context')).toBe(DIALPLAN_CONTEXTS.agents);
      const auth = auths.get(value(ep.entries, 'auth')!)!;
      expect(value(auth, 'auth_type')).toBe('digest');
      expect(value(auth, 'username')).toBe(name);
      expect(value(auth, 'password')).toBe(`@@AGENT_${ext}_PASSWORD@@`);
      const aor = aors.get(value(ep.entries, 'aors')!)!;
      expect(value(aor, 'max_contacts')).toBe('1');
      expect(value(aor, 'remove_existing')).toBe('yes');
    }
    const template = pjsip.sections.find((s) => s.name === 'agent-aor' && s.isTemplate);
    expect(template).toBeDefined();
  });

  it('every endpoint: no connected-line updates, G.711 only, a context that exists', () => {
    for (const ep of endpoints) {
      expect(value(ep.entries, 'send_connected_line'), ep.name).toBe('no');
      expect(values(ep.entries, 'disallow'), ep.name).toContain('all');
      expect(value(ep.entries, 'allow'), ep.name).toBe('alaw,ulaw');
      expect(dialplan.contexts.has(value(ep.entries, 'context') ?? ''), ep.name).toBe(true);
    }
  });

  it('linkage lines: 110/119/120/122 into from-emergency, utilities into from-partner, each tagged', () => {
    const expected: [string, string][] = [
      ...['110', '119', '120', '122'].map((l): [string, string] => [l, DIALPLAN_CONTEXTS.emergency]),
      ...['water', 'power', 'gas', 'heat', 'telecom'].map((l): [string, string] => [l, DIALPLAN_CONTEXTS.partner]),
    ];
    const identified = new Set(objects(pjsip, 'identify').map((i) => value(i.entries, 'endpoint')));
    for (const [line, context] of expected) {
      const ep = endpoints.find((e) => values(e.entries, 'set_var').includes(`PARTNER_LINE=${line}`));
      expect(ep, line).toBeDefined();
      expect(value(ep!.entries, 'context')).toBe(context);
      expect(value(ep!.entries, 'identify_by')).toBe('ip');
      expect(identified.has(ep!.name), `${ep!.name} identify`).toBe(true);
    }
  });

  it('references between objects resolve', () => {
    const auths = byName('auth');
    const aors = byName('aor');
    const names = new Set(endpoints.map((e) => e.name));
    for (const ep of endpoints) {
      for (const a of (value(ep.entries, 'aors') ?? '').split(',').filter(Boolean)) expect(aors.has(a), `${ep.name} aors=${a}`).toBe(true);
      const auth = value(ep.entries, 'auth');
      if (auth) expect(auths.has(auth), `${ep.name} auth=${auth}`).toBe(true);
    }
    for (const i of objects(pjsip, 'identify')) expect(names.has(value(i.entries, 'endpoint') ?? ''), i.name).toBe(true);
  });
});

describe('docker/asterisk: ARI, HTTP, AMI, modules', () => {
  it('ari.conf: enabled, compact, no CORS, the contract channel variables, the hotline user', () => {
    const general = section(ari, 'general');
    expect(value(general, 'enabled')).toBe('yes');
    expect(value(general, 'pretty')).toBe('no');
    expect(general.some((e) => e.key === 'allowed_origins')).toBe(true);
    expect(value(general, 'allowed_origins')).not.toBe('*');
    const vars = value(general, 'channelvars')!.split(',').map((v) => v.trim());
    expect(new Set(vars)).toEqual(new Set(ARI_CHANNEL_VARS));
    expect(vars).toContain('CASE_ID');
    const user = section(ari, STASIS_APP);
    expect(value(user, 'type')).toBe('user');
    expect(value(user, 'read_only')).toBe('no');
    expect(value(user, 'password')).toBe('@@ARI_PASSWORD@@');
    expect(values(user, 'deny')).toContain('0.0.0.0/0.0.0.0');
  });

  it('http.conf: sessionlimit >= 1000 and never bound to a wildcard address', () => {
    const general = section(http, 'general');
    expect(value(general, 'enabled')).toBe('yes');
    expect(Number(value(general, 'sessionlimit'))).toBeGreaterThanOrEqual(1000);
    // The service closes idle pooled connections first, so it never sends on one Asterisk is closing.
    expect(Number(value(general, 'session_keep_alive'))).toBeGreaterThan(DEFAULT_IDLE_SOCKET_MS);
    expect(['0.0.0.0', '::', '[::]']).not.toContain(value(general, 'bindaddr'));
    expect(value(general, 'bindport')).toBe('8088');
  });

  it('manager.conf: private bind, a least-privilege user behind deny/permit', () => {
    const general = section(manager, 'general');
    expect(value(general, 'enabled')).toBe('yes');
    expect(value(general, 'port')).toBe('5038');
    expect(['0.0.0.0', '::', '[::]']).not.toContain(value(general, 'bindaddr'));
    expect(value(general, 'webenabled')).toBe('no');
    const user = section(manager, 'hotline');
    expect(user.findIndex((e) => e.key === 'deny')).toBeLessThan(user.findIndex((e) => e.key === 'permit'));
    expect(values(user, 'deny')).toContain('0.0.0.0/0.0.0.0');
    expect(value(user, 'read')!.split(',')).toEqual(expect.arrayContaining(['system', 'call', 'security', 'reporting']));
    const writeValue = value(user, 'write') ?? '';
    const write = parsePermissions(writeValue);
    for (const dangerous of ['all', 'command', 'config', 'originate', 'agent', 'call', 'user', 'dialplan', 'agi']) expect(writeValue.split(',').map((w) => w.trim())).not.toContain(dangerous);
    // Every action the adapter sends is allowed (Asterisk answers `Permission denied` otherwise) …
    for (const action of AMI_ACTIONS_USED) expect(permits(write, action), `write = ${writeValue} permits ${action}`).toBe(true);
    // … and no class could be dropped: each one is needed by some action.
    for (const cls of write) {
      const without = new Set([...write].filter((c) => c !== cls));
      expect(AMI_ACTIONS_USED.some((a) => !permits(without, a)), `write class ${cls} is needed`).toBe(true);
    }
    expect(value(user, 'secret')).toBe('@@AMI_PASSWORD@@');
  });

  it('modules.conf requires what the dialplan and the service use', () => {
    const required = values(section(modules, 'modules'), 'require');
    for (const m of ['res_ari.so', 'app_stasis.so', 'res_pjsip.so', 'chan_pjsip.so', 'res_pjsip_acl.so', 'res_pjsip_header_funcs.so', 'func_strings.so', 'func_groupcount.so']) {
      expect(required).toContain(m);
    }
  });
});

describe('secrets: placeholders, .env.example, compose and the renderer', () => {
  const confFiles = Object.values(dirs).flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.conf')).map((f) => path.join(dir, f)));
  const placeholders = new Set(confFiles.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/@@([A-Z][A-Z0-9_]*)@@/g)].map((m) => m[1]!)));
  const defaultedByEntrypoint = new Set(['ASTERISK_HTTP_BINDADDR', 'ASTERISK_AMI_BINDADDR']);
  const envExample = readFileSync(path.join(root, 'docker/.env.example'), 'utf8');
  const compose = readFileSync(path.join(root, 'docker/compose.yml'), 'utf8');
  const entrypoint = readFileSync(path.join(dirs.asterisk, 'docker-entrypoint.sh'), 'utf8');

  it('no real secret is committed: every password is a placeholder', () => {
    for (const [conf, key] of [[ari, 'password'], [manager, 'secret'], [pjsip, 'password']] as const) {
      for (const s of conf.sections) for (const e of s.entries.filter((x) => x.key === key)) expect(e.value, `${s.name}.${key}`).toMatch(/^@@[A-Z0-9_]+@@$/);
    }
  });

  it.each([...placeholders].sort())('@@%s@@ is supplied to the container', (name) => {
    if (defaultedByEntrypoint.has(name)) {
      expect(entrypoint).toContain(`export ${name}=`);
      return;
    }
    expect(envExample).toMatch(new RegExp(`^${name}=`, 'm'));
    const asteriskService = compose.slice(compose.indexOf('\n  asterisk:'), compose.indexOf('\n  hotline:'));
    expect(asteriskService).toContain(`${name}: \${${name}`);
  });

  it('compose passes the service the ARI/AMI users the configs define', () => {
    expect(compose).toContain(`ARI_USER: ${STASIS_APP}`);
    expect(compose).toContain('AMI_USER: hotline');
    expect(compose).toContain('ARI_URL: http://asterisk:8088');
  });

  describe('render-config.sh', () => {
    const script = path.join(dirs.asterisk, 'render-config.sh');
    const tmp = mkdtempSync(path.join(tmpdir(), 'render-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));
    const env = Object.fromEntries([...placeholders].map((n) => [n, `secret-${n.toLowerCase()}`]));
    Object.assign(env, { ASTERISK_HTTP_BINDADDR: '172.28.0.10', ASTERISK_AMI_BINDADDR: '172.28.0.10', ARI_PASSWORD: 'a&b/c\\d$e' });
    const run = (overrides: Record<string, string | undefined>) => {
      const dest = mkdtempSync(path.join(tmp, 'etc-'));
      const fullEnv: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
      for (const [k, v] of Object.entries({ ...env, ...overrides })) if (v !== undefined) fullEnv[k] = v;
      const result = spawnSync('bash', [script, dest, dirs.dialplans, dirs.sip, dirs.asterisk], { env: fullEnv, encoding: 'utf8' });
      return { ...result, dest };
    };

    it('renders every file with the values, leaving no placeholder', () => {
      const r = run({});
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const rendered = readdirSync(r.dest);
      expect(rendered).toEqual(expect.arrayContaining(['extensions.conf', 'extensions-outbound.conf', 'pjsip.conf', 'pjsip-agents.conf', 'acl.conf', 'ari.conf', 'http.conf', 'manager.conf']));
      for (const f of rendered) expect(readFileSync(path.join(r.dest, f), 'utf8')).not.toMatch(/@@[A-Z0-9_]+@@/);
      const ariConf = loadConf(path.join(r.dest, 'ari.conf'));
      expect(value(section(ariConf, 'hotline'), 'password')).toBe('a&b/c\\d$e');
      // The rendered tree is still a valid configuration.
      parseDialplan(loadConf(path.join(r.dest, 'extensions.conf')));
      expect(objects(loadConf(path.join(r.dest, 'pjsip.conf')), 'endpoint').length).toBe(objects(pjsip, 'endpoint').length);
    });

    it('refuses a missing secret and writes nothing', () => {
      const r = run({ AMI_PASSWORD: undefined });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('AMI_PASSWORD');
      expect(readdirSync(r.dest)).toEqual([]);
    });

    it.each(['0.0.0.0', '::'])('refuses to bind ARI to %s', (addr) => {
      const r = run({ ASTERISK_HTTP_BINDADDR: addr });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('ASTERISK_HTTP_BINDADDR');
    });

    it.each(['abc;def', 'abc\n[evil]', ' padded'])('refuses a value that would break the file: %j', (bad) => {
      const r = run({ ARI_PASSWORD: bad });
      expect(r.status).toBe(1);
    });

    it('refuses duplicate file names across source directories', () => {
      const extra = path.join(tmp, 'dup');
      mkdirSync(extra);
      writeFileSync(path.join(extra, 'ari.conf'), '[general]\n');
      const dest = mkdtempSync(path.join(tmp, 'etc-'));
      const r = spawnSync('bash', [script, dest, dirs.asterisk, extra], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('more than one');
    });
  });
});
