/**
 * Event filters of a webhook: NATS-style patterns over the event type. `ticket.*` matches one
 * more token (ticket.dispatched), `ticket.>` any number, `>` everything.
 */
import { subjectMatches } from '../events/in-process-bus.js';

const PATTERN = /^(?:[a-z][a-z0-9_]*|\*)(?:\.(?:[a-z0-9_]+|\*))*(?:\.>)?$|^>$/;

export function isValidEventPattern(pattern: string): boolean {
  return pattern.length <= 100 && PATTERN.test(pattern);
}

export function matchesAny(patterns: readonly string[], eventType: string): boolean {
  return patterns.some((p) => subjectMatches(p, eventType));
}

/**
 * The department a `<prefix>.dept.<departmentId>.<type>` subject is addressed to, or undefined
 * when the subject is not a department subject of this deployment.
 */
export function departmentOfSubject(subject: string, prefix: string): string | undefined {
  const head = `${prefix}.dept.`;
  if (!subject.startsWith(head)) return undefined;
  const id = subject.slice(head.length).split('.', 1)[0];
  return id && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? id.toLowerCase() : undefined;
}
