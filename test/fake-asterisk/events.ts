// Event routing like res_stasis: an app gets an event when it is subscribed to one of the
// objects the event is about (channels in its Stasis, channels it originated, bridges its
// channels joined, explicit subscriptions) or when it connected with subscribeAll.
// Asterisk does not buffer events for an app without a connected WebSocket.
import { WebSocket } from 'ws';
import type { AriEvent } from './types.js';

export interface Targets {
  channels?: string[];
  bridges?: string[];
  endpoints?: string[];
  /** Apps that get the event regardless of subscriptions (user events, Stasis owners). */
  apps?: (string | null | undefined)[];
}

export class AppState {
  ws: WebSocket | null = null;
  subscribeAll = false;
  readonly channels = new Set<string>();
  readonly bridges = new Set<string>();
  readonly endpoints = new Set<string>();
  readonly deviceNames = new Set<string>();
  constructor(readonly name: string) {}
}

interface Waiter {
  pred: (e: AriEvent) => boolean;
  resolve: (e: AriEvent) => void;
}

export class EventHub {
  readonly apps = new Map<string, AppState>();
  readonly log: AriEvent[] = [];
  private waiters: Waiter[] = [];

  constructor(
    private readonly asteriskId: string,
    /** Oldest logged events are dropped beyond this (long benchmarks). */
    private readonly logLimit = 100_000,
  ) {}

  app(name: string): AppState {
    let a = this.apps.get(name);
    if (!a) {
      a = new AppState(name);
      this.apps.set(name, a);
    }
    return a;
  }

  isActive(name: string): boolean {
    return this.apps.get(name)?.ws != null;
  }

  /** Registers the apps of a new events WebSocket; a second connection for an app replaces the first. */
  attach(ws: WebSocket, names: string[], subscribeAll: boolean): void {
    for (const name of names) {
      const a = this.app(name);
      if (a.ws && a.ws !== ws) this.sendTo(a, { type: 'ApplicationReplaced', timestamp: '' });
      a.ws = ws;
      a.subscribeAll = subscribeAll;
    }
  }

  detach(ws: WebSocket): void {
    for (const a of this.apps.values()) if (a.ws === ws) a.ws = null;
  }

  /** Forgets all apps' subscriptions (Asterisk restart). */
  reset(): void {
    this.apps.clear();
  }

  forgetChannel(id: string): void {
    for (const a of this.apps.values()) a.channels.delete(id);
  }

  forgetBridge(id: string): void {
    for (const a of this.apps.values()) a.bridges.delete(id);
  }

  /** Observers of every event Asterisk raises, whoever receives it (benchmarks drive callers with them). */
  readonly observers = new Set<(ev: AriEvent) => void>();

  publish(ev: AriEvent, t: Targets): void {
    for (const o of this.observers) o(ev);
    for (const a of this.apps.values()) {
      if (!a.ws) continue;
      const hit =
        a.subscribeAll ||
        (t.apps?.includes(a.name) ?? false) ||
        (t.channels?.some((c) => a.channels.has(c)) ?? false) ||
        (t.bridges?.some((b) => a.bridges.has(b)) ?? false) ||
        (t.endpoints?.some((e) => a.endpoints.has(e) || a.endpoints.has(e.split('/')[0]!)) ?? false);
      if (hit) this.sendTo(a, ev);
    }
  }

  private sendTo(a: AppState, ev: AriEvent): void {
    // A socket that is already closing loses the event, as a real disconnect would.
    if (a.ws?.readyState !== WebSocket.OPEN) return;
    const msg: AriEvent = { ...ev, timestamp: ev.timestamp || new Date().toISOString().replace('Z', '+0000'), asterisk_id: this.asteriskId, application: a.name };
    this.log.push(msg);
    if (this.log.length > this.logLimit * 1.1) this.log.splice(0, this.log.length - this.logLimit);
    a.ws.send(JSON.stringify(msg));
    if (this.waiters.length) {
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(msg)) return true;
        w.resolve(msg);
        return false;
      });
    }
  }

  /** Resolves with the first logged event matching `pred` (already sent or future). */
  waitFor(pred: (e: AriEvent) => boolean, timeoutMs: number): Promise<AriEvent> {
    const found = this.log.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`fake asterisk: no matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }
}
