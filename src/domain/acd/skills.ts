/**
 * Skills-based routing: which agents may take a caller of a queue (every required skill at its
 * minimum level, and the queue's language), and in what order the ACD offers them the call:
 * the best skill level first, then the longest idle. Pure.
 */

export interface SkillLevel {
  readonly skillId: string;
  readonly level: number;
}

export interface Requirement {
  readonly requiredSkills: readonly { readonly skillId: string; readonly minLevel: number }[];
  /** null = any language. */
  readonly language: string | null;
}

export interface AgentCandidate {
  readonly agentId: string;
  readonly skills: readonly SkillLevel[];
  readonly languages: readonly string[];
  /** When the agent became available (agent_states.idle_since). */
  readonly idleSince: Date;
}

/** `zh` is served by an agent speaking `zh` or `zh-…`; a queue asking for `zh-Hant` needs exactly that. */
export function speaks(languages: readonly string[], language: string | null): boolean {
  if (language === null) return true;
  const want = language.toLowerCase();
  return languages.some((l) => {
    const have = l.toLowerCase();
    return have === want || have.startsWith(`${want}-`);
  });
}

export function meetsRequirement(skills: readonly SkillLevel[], req: Requirement): boolean {
  const levels = new Map(skills.map((s) => [s.skillId, s.level]));
  return req.requiredSkills.every((r) => (levels.get(r.skillId) ?? 0) >= r.minLevel);
}

export function isEligible(agent: AgentCandidate, req: Requirement): boolean {
  return speaks(agent.languages, req.language) && meetsRequirement(agent.skills, req);
}

/**
 * How well the agent fits: the weakest of their levels on the required skills, then the total
 * of those levels. [0, 0] when the queue requires no skill (everyone fits equally).
 */
export function skillFit(skills: readonly SkillLevel[], req: Requirement): readonly [number, number] {
  if (req.requiredSkills.length === 0) return [0, 0];
  const levels = new Map(skills.map((s) => [s.skillId, s.level]));
  const mine = req.requiredSkills.map((r) => levels.get(r.skillId) ?? 0);
  return [Math.min(...mine), mine.reduce((a, b) => a + b, 0)];
}

/** Eligible agents in offer order: best fit, then longest idle, then agent id (deterministic). */
export function rankAgents<A extends AgentCandidate>(candidates: readonly A[], req: Requirement): A[] {
  return candidates
    .filter((a) => isEligible(a, req))
    .map((a) => ({ a, fit: skillFit(a.skills, req) }))
    .sort((x, y) => y.fit[0] - x.fit[0] || y.fit[1] - x.fit[1] || x.a.idleSince.getTime() - y.a.idleSince.getTime() || (x.a.agentId < y.a.agentId ? -1 : x.a.agentId > y.a.agentId ? 1 : 0))
    .map((x) => x.a);
}
