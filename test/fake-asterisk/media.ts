// Playbacks (queued per target, PlaybackStarted/Continuing/Finished) and recordings
// (live → stored, RecordingStarted/Finished), timed with real timers.
import { randomUUID } from 'node:crypto';
import type { AsteriskModel, Params } from './model.js';
import { AriError, liveRecordingJson, playbackJson, type Chan, type LiveRecording, type Playback, type StoredRecording } from './state.js';
import type { AriEvent } from './types.js';
import { ariTime, hex8 } from './util.js';

const FORMATS = ['wav', 'gsm', 'ulaw', 'alaw', 'sln', 'sln16', 'wav16', 'g722', 'g729', 'ogg', 'wav49'];
const PLAYABLE = /^(sound|recording|number|digits|characters|tone):./;

type TargetKind = 'channel' | 'bridge';

export class Media {
  readonly playbacks = new Map<string, Playback>();
  readonly live = new Map<string, LiveRecording>();
  /** Stored recordings survive restarts (they are files). */
  readonly stored = new Map<string, StoredRecording>();
  private recorderCounter = 0;

  constructor(private readonly m: AsteriskModel) {}

  clearLive(): void {
    this.playbacks.clear();
    this.live.clear();
    this.recorderCounter = 0;
  }

  private targets(kind: TargetKind, id: string): { channels?: string[]; bridges?: string[]; apps?: (string | null)[] } {
    if (kind === 'bridge') return { bridges: [id] };
    return { channels: [id], apps: [this.m.channels.get(id)?.stasisApp ?? null] };
  }

  private requireTarget(kind: TargetKind, id: string): void {
    if (kind === 'channel') this.m.requireStasis(id);
    else this.m.bridges.require(id);
  }

  // ---- playbacks ------------------------------------------------------------------

  private publishPlayback(type: string, p: Playback): void {
    const ev: AriEvent = { type, timestamp: ariTime(Date.now()), playback: playbackJson(p) };
    this.m.hub.publish(ev, this.targets(p.targetKind, p.targetId));
  }

  durationOf(media: string): number {
    return this.m.cfg.mediaDurations[media] ?? this.m.cfg.playbackMs;
  }

  play(kind: TargetKind, targetId: string, q: Params, pathPlaybackId?: string): Record<string, unknown> {
    this.requireTarget(kind, targetId);
    if (!q.media) throw new AriError(400, 'Missing parameter media');
    const media = q.media.split(',');
    if (media.some((u) => !PLAYABLE.test(u))) throw new AriError(400, 'Invalid media URI');
    const id = pathPlaybackId ?? q.playbackId ?? randomUUID();
    if (this.playbacks.has(id)) throw new AriError(409, 'Playback with the given id already exists');
    const p: Playback = {
      id,
      media,
      index: 0,
      targetKind: kind,
      targetId,
      language: q.lang ?? (kind === 'channel' ? (this.m.channels.get(targetId)?.language ?? 'en') : 'en'),
      state: 'queued',
      timer: null,
      remainingMs: 0,
      startedAt: 0,
    };
    this.playbacks.set(id, p);
    const json = playbackJson(p);
    // PlaybackStarted follows the 201, as in most trace runs.
    this.m.later(0, () => this.startNext(kind, targetId));
    return json;
  }

  private startNext(kind: TargetKind, targetId: string): void {
    const mine = [...this.playbacks.values()].filter((p) => p.targetKind === kind && p.targetId === targetId);
    if (mine.some((p) => p.state === 'playing' || p.state === 'paused')) return;
    const next = mine.find((p) => p.state === 'queued');
    if (!next) return;
    next.state = 'playing';
    this.publishPlayback('PlaybackStarted', next);
    this.runCurrent(next, this.durationOf(next.media[next.index]!));
  }

  private runCurrent(p: Playback, ms: number): void {
    p.startedAt = Date.now();
    p.remainingMs = ms;
    p.timer = this.m.later(ms, () => this.advance(p));
  }

  private advance(p: Playback): void {
    p.timer = null;
    if (p.index + 1 < p.media.length) {
      p.index++;
      this.publishPlayback('PlaybackContinuing', p);
      this.runCurrent(p, this.durationOf(p.media[p.index]!));
      return;
    }
    this.finishPlayback(p, 'done');
  }

  private finishPlayback(p: Playback, state: 'done' | 'failed'): void {
    this.m.cancel(p.timer);
    p.timer = null;
    const wasQueued = p.state === 'queued';
    p.state = state;
    this.playbacks.delete(p.id);
    if (!wasQueued || state === 'done') this.publishPlayback('PlaybackFinished', p);
    this.startNext(p.targetKind, p.targetId);
  }

  requirePlayback(id: string): Playback {
    const p = this.playbacks.get(id);
    if (!p) throw new AriError(404, 'Playback not found');
    return p;
  }

  stopPlayback(id: string): void {
    // A stopped playback reports state "done", like a completed one.
    this.finishPlayback(this.requirePlayback(id), 'done');
  }

  control(id: string, op: string | undefined): void {
    const p = this.requirePlayback(id);
    const ops = ['restart', 'pause', 'unpause', 'reverse', 'forward'];
    if (!op || !ops.includes(op)) throw new AriError(400, 'Invalid operation');
    if (p.state !== 'playing' && p.state !== 'paused') throw new AriError(409, 'Playback not in a valid state');
    if (op === 'pause' && p.state === 'playing') {
      this.m.cancel(p.timer);
      p.timer = null;
      p.remainingMs = Math.max(1, p.remainingMs - (Date.now() - p.startedAt));
      p.state = 'paused';
    } else if (op === 'unpause' && p.state === 'paused') {
      p.state = 'playing';
      this.runCurrent(p, p.remainingMs);
    } else if (op === 'restart' && p.state === 'playing') {
      this.m.cancel(p.timer);
      this.runCurrent(p, this.durationOf(p.media[p.index]!));
    }
  }

  // ---- recordings -----------------------------------------------------------------

  private publishRecording(type: string, r: LiveRecording, durationSec?: number): void {
    const ev: AriEvent = { type, timestamp: ariTime(Date.now()), recording: liveRecordingJson(r, durationSec) };
    this.m.hub.publish(ev, this.targets(r.targetKind, r.targetId));
  }

  record(kind: TargetKind, targetId: string, q: Params): Record<string, unknown> {
    if (kind === 'channel') this.m.requireChannel(targetId);
    const bridge = kind === 'bridge' ? this.m.bridges.require(targetId) : undefined;
    if (kind === 'channel' && !this.m.channels.get(targetId)?.stasisApp) throw new AriError(409, 'Channel not in a Stasis application');
    if (!q.name) throw new AriError(400, 'Recording name is required');
    if (!q.format) throw new AriError(400, 'Recording format is required');
    if (!FORMATS.includes(q.format)) throw new AriError(422, `Unrecognized format: ${q.format}`);
    const ifExists = q.ifExists ?? 'fail';
    if (!['fail', 'overwrite', 'append'].includes(ifExists)) throw new AriError(400, 'ifExists invalid');
    const terminateOn = q.terminateOn ?? 'none';
    if (this.live.has(q.name)) throw new AriError(409, 'Recording with the same name is in progress');
    if (this.stored.has(q.name) && ifExists === 'fail') throw new AriError(409, 'Recording with the same name already exists on the system');
    const r: LiveRecording = {
      name: q.name,
      format: q.format,
      targetKind: kind,
      targetId,
      state: 'queued',
      startedAt: Date.now(),
      timer: null,
      terminateOn,
      recorderId: null,
      ifExists,
    };
    this.live.set(r.name, r);
    // The bridge recorder is a participant at once (bridge-record.jsonl: BRIDGEPEER lists it).
    if (bridge) r.recorderId = this.m.bridges.addInternal(bridge, 'recorder', `Recorder/ARI-${hex8(this.recorderCounter++)};2`).id;
    const json = liveRecordingJson(r);
    const maxSec = Number(q.maxDurationSeconds ?? 0);
    this.m.later(0, () => {
      if (r.state !== 'queued') return;
      r.state = 'recording';
      r.startedAt = Date.now();
      this.publishRecording('RecordingStarted', r);
      if (maxSec > 0) r.timer = this.m.later(this.m.scaled(maxSec), () => this.finishRecording(r, 'done'));
    });
    return json;
  }

  requireLive(name: string): LiveRecording {
    const r = this.live.get(name);
    if (!r) throw new AriError(404, 'Recording not found');
    return r;
  }

  finishRecording(r: LiveRecording, state: 'done' | 'canceled' | 'failed'): void {
    if (!this.live.has(r.name)) return;
    this.m.cancel(r.timer);
    r.timer = null;
    const durationSec = Math.round((Date.now() - r.startedAt) / this.m.cfg.timeScale / 1000);
    r.state = state;
    this.live.delete(r.name);
    this.publishRecording('RecordingFinished', r, durationSec);
    if (state === 'done') {
      const prev = this.stored.get(r.name);
      const total = r.ifExists === 'append' && prev ? prev.durationSec + durationSec : durationSec;
      this.stored.set(r.name, { name: r.name, format: r.format, durationSec: total });
    }
    this.m.bridges.removeInternal(r.recorderId);
  }

  pauseRecording(name: string, pause: boolean): void {
    const r = this.requireLive(name);
    if (r.state !== 'recording' && r.state !== 'paused') throw new AriError(409, 'Recording not in session');
    r.state = pause ? 'paused' : 'recording';
  }

  muteRecording(name: string): void {
    const r = this.requireLive(name);
    if (r.state !== 'recording' && r.state !== 'paused') throw new AriError(409, 'Recording not in session');
  }

  liveJson(name: string): Record<string, unknown> {
    const r = this.requireLive(name);
    return liveRecordingJson(r, Math.round((Date.now() - r.startedAt) / this.m.cfg.timeScale / 1000));
  }

  requireStored(name: string): StoredRecording {
    const s = this.stored.get(name);
    if (!s) throw new AriError(404, 'Recording not found');
    return s;
  }

  copyStored(name: string, dest: string | undefined): StoredRecording {
    const s = this.requireStored(name);
    if (!dest) throw new AriError(400, 'Missing parameter destinationRecordingName');
    if (this.stored.has(dest)) throw new AriError(409, 'A recording with the same name already exists on the system');
    const copy = { ...s, name: dest };
    this.stored.set(dest, copy);
    return copy;
  }

  // ---- target lifecycle -----------------------------------------------------------

  /** The channel hung up or the bridge went away: playbacks fail, recordings are stored. */
  targetGone(kind: TargetKind, id: string): void {
    const mine = [...this.playbacks.values()].filter((p) => p.targetKind === kind && p.targetId === id);
    // Drop the queue first so nothing starts on a target that is going away.
    for (const p of mine) if (p.state === 'queued') this.playbacks.delete(p.id);
    for (const p of mine) if (p.state !== 'queued') this.finishPlayback(p, kind === 'channel' ? 'failed' : 'done');
    for (const r of [...this.live.values()]) if (r.targetKind === kind && r.targetId === id) this.finishRecording(r, 'done');
  }

  dtmf(ch: Chan, digit: string): void {
    for (const r of [...this.live.values()]) {
      if (r.targetKind !== 'channel' || r.targetId !== ch.id || r.terminateOn === 'none') continue;
      if (r.terminateOn === 'any' || r.terminateOn === digit) this.finishRecording(r, 'done');
    }
  }
}
