import { describe, expect, it } from 'vitest';
import {
  CALLER_FLAGS, MAX_OVERFLOW_CHAIN, QUEUE_DEFAULTS, QUEUE_LIMITS, checkOverflowChain, compareWaiting, isEligible, meetsRequirement,
  priorityClassOf, priorityOf, rankAgents, skillFit, speaks, upstreamOf, validateQueueSettings,
  type AgentCandidate, type CallerFlag, type QueueSettings,
} from './index.js';

const base: QueueSettings = {
  ...QUEUE_DEFAULTS, overflowAction: 'none', overflowQueueId: null, requiredSkills: [], priorityRules: [], language: null,
};
const codes = (s: Partial<QueueSettings>) => validateQueueSettings({ ...base, ...s }).map((p) => p.code);

describe('queue settings', () => {
  it('accepts the defaults, with a 15 s service level', () => {
    expect(validateQueueSettings(base)).toEqual([]);
    expect(QUEUE_DEFAULTS.serviceLevelSeconds).toBe(15);
  });

  it.each(Object.entries(QUEUE_LIMITS))('bounds %s', (field, { min, max }) => {
    // Keep the related limits out of the way so only the range check speaks.
    const roomy = { ...base, maxWaitSeconds: 3600, callbackOfferSeconds: null };
    const at = (v: number) => validateQueueSettings({ ...roomy, [field]: v }).filter((p) => p.field === field).map((p) => p.code);
    expect(at(max + 1)).toContain('queue_limit_out_of_range');
    expect(at(min - 1)).toContain('queue_limit_out_of_range');
    expect(at(1.5)).toContain('queue_limit_out_of_range');
    expect(at(min)).toEqual([]);
    expect(at(max)).not.toContain('queue_limit_out_of_range');
  });

  it('allows switching announcements and callback offers off', () => {
    expect(codes({ announcementIntervalSeconds: 0, callbackOfferSeconds: null })).toEqual([]);
    expect(codes({ announcementIntervalSeconds: 5 })).toEqual(['queue_limit_out_of_range']);
  });

  it('relates the limits to the maximum wait', () => {
    expect(codes({ maxWaitSeconds: 60, callbackOfferSeconds: 60 })).toEqual(['callback_offer_after_max_wait']);
    expect(codes({ maxWaitSeconds: 60, callbackOfferSeconds: 30, serviceLevelSeconds: 90 })).toEqual(['service_level_exceeds_max_wait']);
    expect(codes({ maxWaitSeconds: 30, callbackOfferSeconds: 10, ringTimeoutSeconds: 30 })).toEqual(['ring_timeout_exceeds_max_wait']);
  });

  it('checks the overflow target shape', () => {
    expect(codes({ overflowAction: 'queue' })).toEqual(['overflow_queue_required']);
    expect(codes({ overflowAction: 'voicemail', overflowQueueId: 'q2' })).toEqual(['overflow_queue_not_applicable']);
    expect(codes({ overflowAction: 'queue', overflowQueueId: 'q2' })).toEqual([]);
    expect(codes({ overflowAction: 'hangup' as never })).toEqual(['invalid_overflow_action']);
  });

  it('checks required skills, language and priority rules', () => {
    expect(codes({ requiredSkills: [{ skillId: 's', minLevel: 1 }, { skillId: 's', minLevel: 2 }] })).toEqual(['duplicate_skill']);
    expect(codes({ requiredSkills: [{ skillId: 's', minLevel: 6 }] })).toEqual(['skill_level_out_of_range']);
    expect(codes({ requiredSkills: [{ skillId: 's', minLevel: 0 }] })).toEqual(['skill_level_out_of_range']);
    expect(codes({ requiredSkills: Array.from({ length: 11 }, (_, i) => ({ skillId: `s${i}`, minLevel: 1 })) })).toEqual(['too_many_required_skills']);
    expect(codes({ language: 'Mandarin' })).toEqual(['invalid_language']);
    expect(codes({ language: 'zh-Hant' })).toEqual([]);
    expect(codes({ priorityRules: [{ flag: 'vip' as CallerFlag, boost: 5 }] })).toEqual(['unknown_caller_flag']);
    expect(codes({ priorityRules: [{ flag: 'elderly', boost: 5 }, { flag: 'elderly', boost: 6 }] })).toEqual(['duplicate_priority_rule']);
    expect(codes({ priorityRules: [{ flag: 'elderly', boost: 0 }] })).toEqual(['priority_boost_out_of_range']);
    expect(codes({ priorityRules: [{ flag: 'elderly', boost: 101 }] })).toEqual(['priority_boost_out_of_range']);
  });

  it('reports every problem at once', () => {
    expect(codes({ wrapUpSeconds: -1, ringTimeoutSeconds: 500, language: 'x' })).toEqual(['queue_limit_out_of_range', 'queue_limit_out_of_range', 'ring_timeout_exceeds_max_wait', 'invalid_language']);
  });
});

describe('priority', () => {
  it('ranks emergency linkage > elderly/assisted > normal', () => {
    expect(priorityClassOf(['emergency_linkage', 'elderly'])).toBe('emergency');
    expect(priorityClassOf(['elderly'])).toBe('assisted');
    expect(priorityClassOf(['assisted', 'repeat_caller'])).toBe('assisted');
    expect(priorityClassOf(['repeat_caller'])).toBe('normal');
    expect(priorityClassOf([])).toBe('normal');
  });

  it('boosts order callers within a class, never across classes', () => {
    const rules = [{ flag: 'repeat_caller' as const, boost: 100 }, { flag: 'elderly' as const, boost: 10 }];
    const normal = priorityOf([], rules);
    const repeat = priorityOf(['repeat_caller'], rules);
    const assisted = priorityOf(['assisted'], rules);
    const elderly = priorityOf(['elderly'], rules);
    const emergency = priorityOf(['emergency_linkage'], []);
    expect(repeat).toBeGreaterThan(normal);
    expect(assisted).toBeGreaterThan(repeat);
    expect(elderly).toBeGreaterThan(assisted);
    expect(emergency).toBeGreaterThan(priorityOf(['elderly', 'repeat_caller'], rules));
    // The largest boost counts, not the sum.
    expect(priorityOf(['elderly', 'repeat_caller'], rules)).toBe(priorityOf(['assisted', 'repeat_caller'], rules));
  });

  it('every flag combination keeps the class order', () => {
    const rules = CALLER_FLAGS.map((flag) => ({ flag, boost: 100 }));
    const combos = CALLER_FLAGS.reduce<CallerFlag[][]>((acc, f) => [...acc, ...acc.map((c) => [...c, f])], [[]]);
    const order = ['normal', 'assisted', 'emergency'];
    for (const a of combos) for (const b of combos) {
      const ca = order.indexOf(priorityClassOf(a));
      const cb = order.indexOf(priorityClassOf(b));
      if (ca > cb) expect(priorityOf(a, rules)).toBeGreaterThan(priorityOf(b, rules));
    }
  });

  it('serves higher priority first, then the longest waiting', () => {
    const t = (s: number) => new Date(1_700_000_000_000 + s * 1000);
    const entries = [
      { id: 'c', priority: 0, enqueuedAt: t(5) },
      { id: 'a', priority: 0, enqueuedAt: t(1) },
      { id: 'e', priority: 2000, enqueuedAt: t(9) },
      { id: 'b', priority: 0, enqueuedAt: t(1) },
      { id: 'd', priority: 1050, enqueuedAt: t(8) },
    ];
    expect([...entries].sort(compareWaiting).map((e) => e.id)).toEqual(['e', 'd', 'a', 'b', 'c']);
  });
});

describe('skills matching and ranking', () => {
  const t = (m: number) => new Date(Date.UTC(2026, 2, 2, 1, m));
  const agent = (agentId: string, skills: [string, number][], idleMin: number, languages = ['zh']): AgentCandidate => ({
    agentId, skills: skills.map(([skillId, level]) => ({ skillId, level })), languages, idleSince: t(idleMin),
  });
  const req = { requiredSkills: [{ skillId: 'yibao', minLevel: 2 }], language: 'zh' };

  it('matches languages by code and region', () => {
    expect(speaks(['zh-CN'], 'zh')).toBe(true);
    expect(speaks(['zh'], 'zh-Hant')).toBe(false);
    expect(speaks(['yue'], 'zh')).toBe(false);
    expect(speaks(['EN'], 'en')).toBe(true);
    expect(speaks([], null)).toBe(true);
  });

  it('needs every required skill at its minimum level', () => {
    const two = { requiredSkills: [{ skillId: 'a', minLevel: 2 }, { skillId: 'b', minLevel: 3 }], language: null };
    expect(meetsRequirement([{ skillId: 'a', level: 2 }, { skillId: 'b', level: 3 }], two)).toBe(true);
    expect(meetsRequirement([{ skillId: 'a', level: 5 }, { skillId: 'b', level: 2 }], two)).toBe(false);
    expect(meetsRequirement([{ skillId: 'a', level: 5 }], two)).toBe(false);
    expect(meetsRequirement([], { requiredSkills: [], language: null })).toBe(true);
    expect(isEligible(agent('x', [['yibao', 5]], 0, ['en']), req)).toBe(false);
  });

  it('fits by the weakest required skill, then the total', () => {
    const two = { requiredSkills: [{ skillId: 'a', minLevel: 1 }, { skillId: 'b', minLevel: 1 }], language: null };
    expect(skillFit([{ skillId: 'a', level: 5 }, { skillId: 'b', level: 2 }, { skillId: 'z', level: 5 }], two)).toEqual([2, 7]);
    expect(skillFit([{ skillId: 'a', level: 5 }], { requiredSkills: [], language: null })).toEqual([0, 0]);
  });

  it('offers the best skill level first, then the longest idle', () => {
    const ranked = rankAgents([
      agent('lvl3-idle-late', [['yibao', 3]], 30),
      agent('lvl5-idle-late', [['yibao', 5]], 40),
      agent('lvl3-idle-early', [['yibao', 3]], 10),
      agent('lvl1', [['yibao', 1]], 0),
      agent('english', [['yibao', 5]], 0, ['en']),
      agent('lvl5-idle-early', [['yibao', 5]], 20),
    ], req);
    expect(ranked.map((a) => a.agentId)).toEqual(['lvl5-idle-early', 'lvl5-idle-late', 'lvl3-idle-early', 'lvl3-idle-late']);
  });

  it('without required skills, the longest idle agent goes first; ties break by id', () => {
    const ranked = rankAgents([agent('b', [], 5), agent('a', [], 5), agent('c', [], 1)], { requiredSkills: [], language: null });
    expect(ranked.map((a) => a.agentId)).toEqual(['c', 'a', 'b']);
  });
});

describe('overflow chains', () => {
  const targets = new Map<string, string | null>([['A', 'B'], ['B', 'C'], ['C', null], ['D', null]]);

  it('accepts a chain that ends', () => {
    expect(checkOverflowChain(targets, 'D', 'A')).toEqual({ ok: true, chain: ['D', 'A', 'B', 'C'] });
    expect(checkOverflowChain(targets, 'D', null)).toEqual({ ok: true, chain: ['D'] });
  });

  it('refuses a loop, naming it', () => {
    expect(checkOverflowChain(targets, 'C', 'A')).toEqual({ ok: false, code: 'overflow_loop', chain: ['C', 'A', 'B', 'C'] });
    expect(checkOverflowChain(targets, 'A', 'A')).toEqual({ ok: false, code: 'overflow_loop', chain: ['A', 'A'] });
  });

  it('refuses a chain longer than the limit', () => {
    const long = new Map<string, string | null>(Array.from({ length: 8 }, (_, i) => [`q${i}`, i < 7 ? `q${i + 1}` : null]));
    const r = checkOverflowChain(long, 'start', 'q0');
    expect(r).toMatchObject({ ok: false, code: 'overflow_chain_too_long' });
    expect(r.chain).toHaveLength(MAX_OVERFLOW_CHAIN + 1);
    expect(checkOverflowChain(long, 'start', 'q4').ok).toBe(true);
  });

  it('finds the queues that overflow into a queue', () => {
    expect(upstreamOf(targets, 'C')).toEqual(['A', 'B']);
    expect(upstreamOf(targets, 'A')).toEqual([]);
  });
});
