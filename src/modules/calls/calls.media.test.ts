import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AriNode } from '../../adapters/ari/index.js';
import { AriHttpError } from '../../adapters/ari/index.js';
import { scaledTimers } from '../../domain/timers.js';
import { CallGoneError, ChannelMedia } from './calls.media.js';

function fakeNode(opts: { playFails?: Error } = {}) {
  const plays: { media: readonly string[]; id: string }[] = [];
  const stopped: string[] = [];
  const node = {
    channels: {
      play: async (_ch: string, media: string | readonly string[], o?: { playbackId?: string }) => {
        if (opts.playFails) throw opts.playFails;
        plays.push({ media: typeof media === 'string' ? [media] : media, id: o!.playbackId! });
        return {};
      },
    },
    playbacks: { stop: async (id: string) => void stopped.push(id) },
  } as unknown as AriNode;
  return { node, plays, stopped };
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const setup = (opts?: { playFails?: Error }) => {
  const f = fakeNode(opts);
  return { ...f, media: new ChannelMedia(() => f.node, 'chan-1', scaledTimers(0.001), pino({ level: 'silent' })) };
};

describe('ChannelMedia', () => {
  it('resolves a playback on its PlaybackFinished', async () => {
    const { media, plays } = setup();
    const p = media.play(['sound:hotline/greeting', 'sound:hotline/menu-main']);
    await tick();
    expect(plays[0]!.media).toEqual(['sound:hotline/greeting', 'sound:hotline/menu-main']);
    media.onPlaybackFinished('someone-else');
    media.onPlaybackFinished(plays[0]!.id);
    expect(await p).toBe('done');
  });

  it('a key interrupts a barge-in prompt, stops it, and is the first key collected', async () => {
    const { media, plays, stopped } = setup();
    const p = media.play(['sound:hotline/menu-main'], { bargeIn: true });
    await tick();
    media.onDtmf('2');
    expect(await p).toBe('interrupted');
    await tick();
    expect(stopped).toEqual([plays[0]!.id]);
    expect(await media.collect({ max: 1, firstTimeoutMs: 5000 })).toBe('2');
  });

  it('a key typed ahead skips the next barge-in prompt; clearKeys forgets it', async () => {
    const { media, plays } = setup();
    media.onDtmf('1');
    expect(await media.play(['sound:hotline/menu-main'], { bargeIn: true })).toBe('interrupted');
    expect(plays).toHaveLength(0);
    media.clearKeys();
    const p = media.play(['sound:hotline/menu-main'], { bargeIn: true });
    await tick();
    expect(plays).toHaveLength(1);
    media.onPlaybackFinished(plays[0]!.id);
    expect(await p).toBe('done');
  });

  it('a prompt without barge-in plays to the end; the key waits for the collect', async () => {
    const { media, plays } = setup();
    const p = media.play(['sound:hotline/greeting']);
    await tick();
    media.onDtmf('5');
    media.onPlaybackFinished(plays[0]!.id);
    expect(await p).toBe('done');
    expect(await media.collect({ max: 1, firstTimeoutMs: 5000 })).toBe('5');
  });

  it('collects up to the terminator, the maximum, or a timeout', async () => {
    const { media } = setup();
    const a = media.collect({ max: 20, terminator: '#', firstTimeoutMs: 5000, interDigitTimeoutMs: 5000 });
    for (const d of '123#9') media.onDtmf(d);
    expect(await a).toBe('123');
    media.clearKeys();
    const b = media.collect({ max: 2, firstTimeoutMs: 5000 });
    media.onDtmf('4');
    media.onDtmf('5');
    expect(await b).toBe('45');
    expect(await media.collect({ max: 1, firstTimeoutMs: 2000 })).toBe(''); // 2 ms scaled: silence
    const c = media.collect({ max: 14, terminator: '#', firstTimeoutMs: 10_000, interDigitTimeoutMs: 3000 });
    media.onDtmf('7');
    expect(await c).toBe('7'); // stopped typing: what was keyed so far
  });

  it('a hangup rejects pending and later steps with CallGoneError', async () => {
    const { media } = setup();
    const p = media.play(['sound:hotline/greeting']);
    const c = media.collect({ max: 1, firstTimeoutMs: 60_000_000 });
    await tick();
    media.hangup();
    await expect(p).rejects.toBeInstanceOf(CallGoneError);
    await expect(c).rejects.toBeInstanceOf(CallGoneError);
    await expect(media.play(['x'])).rejects.toBeInstanceOf(CallGoneError);
    expect(media.isGone).toBe(true);
  });

  it('a 404 from play means the channel is gone', async () => {
    const { media } = setup({ playFails: new AriHttpError('ast1', 'channels.play', 404, 'Channel not found') });
    await expect(media.play(['sound:hotline/greeting'])).rejects.toBeInstanceOf(CallGoneError);
  });

  it('releaseWaits ends a playback whose finish event was lost in a reconnect', async () => {
    const { media } = setup();
    const p = media.play(['sound:hotline/greeting']);
    await tick();
    media.releaseWaits();
    expect(await p).toBe('done');
  });
});
