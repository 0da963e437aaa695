/**
 * This instance's desktops, grouped by user, and the delivery of log messages to them in order.
 * A message reaches an instance up to twice (the recorder's deliver() after commit, and the
 * NATS copy) and possibly out of order; numbers have no gaps, so each group keeps the next
 * number it expects: lower ones are repeats, a higher one first fetches the missing ones from
 * the log. Everything for one user runs in that user's serial queue, joins included, so a
 * desktop's welcome and the live messages after it never interleave.
 */
import type { Logger } from 'pino';
import type { StoredDesktopMessage } from './desktop.service.js';

/** A desktop as the hub sees it. */
export interface HubMember {
  readonly userId: string;
  /** The highest number this desktop has (its welcome's lastSeq, then each message sent). */
  through: bigint;
  /** Sends a serialised server message (applies the socket's backpressure limit). */
  sendText(text: string): void;
}

interface Group {
  readonly members: Set<HubMember>;
  /** The next number to deliver; undefined until the first member joined. */
  next: bigint | undefined;
  queue: Promise<void>;
  /** Joins waiting in the queue: the group is kept while any is pending. */
  pending: number;
}

export type GapFiller = (agentId: string, after: bigint, through: bigint) => Promise<StoredDesktopMessage[]>;

export function logFrame(m: StoredDesktopMessage): string {
  return JSON.stringify({ v: 1, type: m.type, seq: m.seq, at: m.at, payload: m.payload });
}

export class DesktopHub {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly fill: GapFiller, private readonly logger: Logger) {}

  /**
   * Runs `open` in the user's queue; it sends the welcome and what was missed, and returns the
   * member with the number it is up to date with (or null if the desktop went away meanwhile).
   */
  async join(userId: string, open: () => Promise<HubMember | null>): Promise<void> {
    const g = this.group(userId);
    g.pending += 1;
    await this.enqueue(userId, g, async () => {
      try {
        const member = await open();
        if (!member) return;
        g.members.add(member);
        // The first member sets where delivery starts; later ones only skip what they have.
        if (g.next === undefined || g.members.size === 1) g.next = member.through + 1n;
      } finally {
        g.pending -= 1;
      }
    });
    this.dropIfEmpty(userId, g);
  }

  leave(member: HubMember): void {
    const g = this.groups.get(member.userId);
    if (!g) return;
    g.members.delete(member);
    this.dropIfEmpty(member.userId, g);
  }

  /** A message recorded here or elsewhere; ignored when none of its user's desktops is here. */
  deliver(msg: StoredDesktopMessage): void {
    const g = this.groups.get(msg.agentId);
    if (!g) return;
    void this.enqueue(msg.agentId, g, () => this.deliverInOrder(msg.agentId, g, msg));
  }

  /** Desktops of this user connected to this instance. */
  count(userId: string): number {
    return this.groups.get(userId)?.members.size ?? 0;
  }

  /** Resolves when everything queued so far for the user is done (tests, shutdown). */
  async settled(userId: string): Promise<void> {
    await this.groups.get(userId)?.queue;
  }

  private async deliverInOrder(agentId: string, g: Group, msg: StoredDesktopMessage): Promise<void> {
    if (g.members.size === 0 || g.next === undefined) return;
    const seq = BigInt(msg.seq);
    if (seq < g.next) return; // already delivered (the other copy)
    if (seq > g.next) {
      // The messages in between were committed before this one: take them from the log.
      try {
        for (const m of await this.fill(agentId, g.next - 1n, seq - 1n)) this.send(g, m);
      } catch (err) {
        this.logger.warn({ err, agentId, from: g.next.toString(), to: msg.seq }, 'could not fill a gap in desktop messages; the desktop resumes on reconnect');
      }
    }
    this.send(g, msg);
    g.next = seq + 1n;
  }

  private send(g: Group, m: StoredDesktopMessage): void {
    const seq = BigInt(m.seq);
    let text: string | undefined;
    for (const member of g.members) {
      if (seq <= member.through) continue; // in its welcome's snapshot or replay already
      text ??= logFrame(m);
      member.through = seq;
      member.sendText(text);
    }
  }

  private group(userId: string): Group {
    let g = this.groups.get(userId);
    if (!g) {
      g = { members: new Set(), next: undefined, queue: Promise.resolve(), pending: 0 };
      this.groups.set(userId, g);
    }
    return g;
  }

  private enqueue(userId: string, g: Group, task: () => Promise<void>): Promise<void> {
    g.queue = g.queue.then(task).catch((err: unknown) => this.logger.error({ err, userId }, 'desktop delivery task failed'));
    return g.queue;
  }

  private dropIfEmpty(userId: string, g: Group): void {
    if (g.members.size === 0 && g.pending === 0 && this.groups.get(userId) === g) this.groups.delete(userId);
  }
}
