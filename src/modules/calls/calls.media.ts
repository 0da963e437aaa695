/**
 * Prompts and keypresses on one channel, as awaitable steps for the IVR and the survey: play
 * (optionally interrupted by a key: barge-in) and collect digits with timeouts. The session
 * feeds it the channel's PlaybackFinished and ChannelDtmfReceived events; when the caller
 * hangs up every pending step rejects with `CallGoneError`, so a flow never waits forever.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AriNode } from '../../adapters/ari/index.js';
import { isAriNotFound } from '../../adapters/ari/index.js';
import type { Timers } from '../../domain/timers.js';

export class CallGoneError extends Error {
  constructor() {
    super('the caller is gone');
    this.name = 'CallGoneError';
  }
}

export type PlayResult = 'done' | 'interrupted';

export interface CollectOptions {
  /** Stop after this many digits. */
  readonly max: number;
  /** A key that ends the input (not included), e.g. '#'. */
  readonly terminator?: string;
  /** Wait for the first key. */
  readonly firstTimeoutMs: number;
  /** Wait between keys. */
  readonly interDigitTimeoutMs?: number;
}

// A playback whose PlaybackFinished never comes (events lost in a reconnect) is given up on.
const PLAYBACK_SAFETY_MS = 5 * 60_000;

interface PendingPlay {
  readonly id: string;
  readonly bargeIn: boolean;
  resolve(r: PlayResult): void;
  reject(err: Error): void;
  timer: unknown;
}

interface PendingCollect {
  resolve(digits: string): void;
  reject(err: Error): void;
  timer: unknown;
  readonly opts: CollectOptions;
  digits: string;
}

export class ChannelMedia {
  private readonly buffer: string[] = [];
  private playing: PendingPlay | undefined;
  private collecting: PendingCollect | undefined;
  private gone = false;

  constructor(
    private readonly node: () => AriNode,
    private readonly channelId: string,
    private readonly timers: Timers,
    private readonly log: Logger,
  ) {}

  get isGone(): boolean {
    return this.gone;
  }

  /** Plays the media in order; with barge-in a key (already pressed or pressed now) cuts it short. */
  async play(media: readonly string[], opts: { bargeIn?: boolean } = {}): Promise<PlayResult> {
    if (this.gone) throw new CallGoneError();
    const bargeIn = opts.bargeIn ?? false;
    if (bargeIn && this.buffer.length > 0) return 'interrupted';
    if (media.length === 0) return 'done';
    const id = randomUUID();
    const done = new Promise<PlayResult>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => this.finishPlay(id, 'done'), PLAYBACK_SAFETY_MS);
      this.playing = { id, bargeIn, resolve, reject, timer };
    });
    // Rejected by a hangup while the request is still out: the request's own error is thrown then.
    done.catch(() => undefined);
    try {
      await this.node().channels.play(this.channelId, media, { playbackId: id });
    } catch (err) {
      const pending = this.playing;
      if (pending?.id === id) {
        this.timers.clearTimeout(pending.timer);
        this.playing = undefined;
      }
      if (isAriNotFound(err) || this.gone) throw new CallGoneError();
      throw err;
    }
    return done;
  }

  /** Plays without waiting (announcements over music); a failure is logged, not thrown. */
  playAndForget(media: readonly string[]): void {
    if (this.gone || media.length === 0) return;
    void this.node().channels.play(this.channelId, media, { playbackId: randomUUID() }).catch((err: unknown) => {
      if (!isAriNotFound(err)) this.log.warn({ err }, 'announcement failed');
    });
  }

  /** Collects keys: up to `max`, or until the terminator, or a timeout (then what was keyed so far). */
  collect(opts: CollectOptions): Promise<string> {
    if (this.gone) return Promise.reject(new CallGoneError());
    return new Promise<string>((resolve, reject) => {
      const pending: PendingCollect = { resolve, reject, timer: undefined, opts, digits: '' };
      this.collecting = pending;
      // Keys pressed during the prompt count (barge-in).
      while (this.buffer.length > 0 && this.collecting === pending) this.feed(this.buffer.shift()!);
      if (this.collecting === pending) this.arm(pending, opts.firstTimeoutMs);
    });
  }

  /** Drops keys typed ahead (before a new question). */
  clearKeys(): void {
    this.buffer.length = 0;
  }

  // --- Fed by the session.

  onDtmf(digit: string): void {
    if (this.gone) return;
    if (this.collecting) {
      this.feed(digit);
      return;
    }
    this.buffer.push(digit);
    if (this.buffer.length > 32) this.buffer.shift();
    const p = this.playing;
    if (p?.bargeIn) {
      this.finishPlay(p.id, 'interrupted');
      void this.node().playbacks.stop(p.id).catch(() => undefined); // already finished or gone
    }
  }

  onPlaybackFinished(playbackId: string): void {
    this.finishPlay(playbackId, 'done');
  }

  /** After a reconnect events may have been missed: nothing pending waits for them. */
  releaseWaits(): void {
    if (this.playing) this.finishPlay(this.playing.id, 'done');
  }

  /** The caller hung up: every pending step rejects; later ones reject at once. */
  hangup(): void {
    if (this.gone) return;
    this.gone = true;
    const err = new CallGoneError();
    const p = this.playing;
    this.playing = undefined;
    if (p) {
      this.timers.clearTimeout(p.timer);
      p.reject(err);
    }
    const c = this.collecting;
    this.collecting = undefined;
    if (c) {
      this.timers.clearTimeout(c.timer);
      c.reject(err);
    }
  }

  private finishPlay(id: string, result: PlayResult): void {
    const p = this.playing;
    if (p?.id !== id) return;
    this.playing = undefined;
    this.timers.clearTimeout(p.timer);
    p.resolve(result);
  }

  private feed(digit: string): void {
    const c = this.collecting;
    if (!c) return;
    this.timers.clearTimeout(c.timer);
    if (c.opts.terminator !== undefined && digit === c.opts.terminator) {
      this.finishCollect(c);
      return;
    }
    c.digits += digit;
    if (c.digits.length >= c.opts.max) {
      this.finishCollect(c);
      return;
    }
    this.arm(c, c.opts.interDigitTimeoutMs ?? c.opts.firstTimeoutMs);
  }

  private arm(c: PendingCollect, ms: number): void {
    c.timer = this.timers.setTimeout(() => this.finishCollect(c), ms);
  }

  private finishCollect(c: PendingCollect): void {
    if (this.collecting !== c) return;
    this.collecting = undefined;
    this.timers.clearTimeout(c.timer);
    c.resolve(c.digits);
  }
}
