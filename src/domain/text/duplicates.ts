/**
 * Duplicate suggestions for merging (GB/T 44189 7.1.3: 重复诉求; 004: 一人多次 / 一事多人).
 * A candidate qualifies when, within the time window, it comes from the same caller with a
 * related subject (一人多次), from the same address with a similar subject (一事多人 at one
 * place), or describes very nearly the same matter. The agent decides; this only ranks.
 */
import { ValidationError } from '../errors.js';
import { normalizePhone } from './normalize.js';
import { addressSimilarity, cosine, profile, type TextProfile } from './similarity.js';

export interface DedupRequest {
  readonly id: string;
  readonly receivedAt: Date;
  /** Subject and description. */
  readonly content: string;
  readonly callerPhone?: string | null;
  readonly address?: string | null;
  /** `profile(content)` when the caller already has it (texts of tickets never change). */
  readonly profile?: TextProfile;
}

export interface DuplicateConfig {
  /** Candidates received more than this many days before or after are ignored. */
  readonly windowDays: number;
  /** Same caller: minimum content similarity. */
  readonly sameCallerMinContent: number;
  /** Address similarity from which two addresses count as the same place. */
  readonly sameAddressMin: number;
  /** Same place: minimum content similarity. */
  readonly sameAddressMinContent: number;
  /** Any caller, any place: content similarity that alone suggests a duplicate. */
  readonly contentOnlyMin: number;
  readonly limit: number;
}

export const DEFAULT_DUPLICATE_CONFIG: DuplicateConfig = {
  windowDays: 30,
  sameCallerMinContent: 0.25,
  sameAddressMin: 0.7,
  sameAddressMinContent: 0.3,
  contentOnlyMin: 0.6,
  limit: 10,
};

export type DuplicateReason = 'same_caller' | 'same_address' | 'similar_content';

export interface DuplicateCandidate {
  readonly id: string;
  /** For ranking: 0.7 content + 0.2 address + 0.1 same caller. */
  readonly score: number;
  readonly contentSimilarity: number;
  readonly addressSimilarity: number | null;
  readonly sameCaller: boolean;
  readonly reasons: readonly DuplicateReason[];
}

function validate(config: DuplicateConfig): void {
  const shares = [config.sameCallerMinContent, config.sameAddressMin, config.sameAddressMinContent, config.contentOnlyMin];
  if (!(config.windowDays > 0) || shares.some((s) => !(s >= 0 && s <= 1)) || !Number.isInteger(config.limit) || config.limit < 1) {
    throw new ValidationError('invalid duplicate detection settings', { config }, 'invalid_duplicate_config');
  }
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

export function duplicateCandidates(
  request: DedupRequest,
  candidates: readonly DedupRequest[],
  overrides: Partial<DuplicateConfig> = {},
): DuplicateCandidate[] {
  const config = { ...DEFAULT_DUPLICATE_CONFIG, ...overrides };
  validate(config);
  const windowMs = config.windowDays * 86_400_000;
  const mine: TextProfile = request.profile ?? profile(request.content);
  const myPhone = request.callerPhone ? normalizePhone(request.callerPhone) : '';
  const found: DuplicateCandidate[] = [];
  for (const other of candidates) {
    if (other.id === request.id) continue;
    if (Math.abs(other.receivedAt.getTime() - request.receivedAt.getTime()) > windowMs) continue;
    const content = cosine(mine, other.profile ?? profile(other.content));
    const address = request.address && other.address ? addressSimilarity(request.address, other.address) : null;
    const otherPhone = other.callerPhone ? normalizePhone(other.callerPhone) : '';
    const sameCaller = myPhone.length >= 5 && myPhone === otherPhone;
    const reasons: DuplicateReason[] = [];
    if (sameCaller && content >= config.sameCallerMinContent) reasons.push('same_caller');
    if (address !== null && address >= config.sameAddressMin && content >= config.sameAddressMinContent) reasons.push('same_address');
    if (content >= config.contentOnlyMin) reasons.push('similar_content');
    if (reasons.length === 0) continue;
    found.push({
      id: other.id,
      score: round(0.7 * content + 0.2 * (address ?? 0) + 0.1 * (sameCaller ? 1 : 0)),
      contentSimilarity: round(content),
      addressSimilarity: address === null ? null : round(address),
      sameCaller,
      reasons,
    });
  }
  return found.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, config.limit);
}
