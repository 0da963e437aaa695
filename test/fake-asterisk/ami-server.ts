/**
 * A fake Asterisk Manager Interface over TCP, speaking like the captures in
 * ../shared/ari-traces/ami-*.txt (Asterisk 23.4.1): banner `Asterisk Call Manager/12.0.0`,
 * `Response: Success` / `Message: Authentication accepted`, then FullyBooted and
 * SuccessfulAuth events; `Response: Goodbye` / `Message: Thanks for all the fish.` on Logoff.
 * A rejected login answers `Message: Authentication failed` and closes the session, as
 * Asterisk's manager.c does (it also sleeps 1 s first: `authFailureDelayMs`). List actions
 * use the EventList start … Complete framing (PJSIPShowEndpoints answers `No endpoints found`
 * when there are none, as res_pjsip does). Actions are checked against the user's manager.conf
 * `write` classes (`write` option, default `all`) and answered `Permission denied` as Asterisk
 * does, before and after login (ami-privileges.ts has the table and its sources). `Reload`
 * answers `Module Reloaded` / `No such module` as manager.c's action_reload does. Not taken from
 * a capture or the docs, so nothing should depend on them: the list messages of
 * PJSIPShowContacts / PJSIPShowRegistrationsOutbound, and their empty-list form (an empty
 * list here). Tests inject events, drop or refuse connections, and delay or swallow responses.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { serializeFrame, type AmiFrame } from './ami-capture.js';
import { parsePermissions, permits } from './ami-privileges.js';

export interface FakeAmiOptions {
  readonly username?: string;
  readonly secret?: string;
  /** AMI protocol version in the banner (the captures show 12.0.0). */
  readonly version?: string;
  readonly authFailureDelayMs?: number;
  /** The user's manager.conf `write` value, e.g. `system,reporting` (default `all`). */
  readonly write?: string;
  /** Modules `Reload` knows (default: res_pjsip.so and a few others). */
  readonly modules?: readonly string[];
}

export interface FakePjsipEndpoint {
  readonly name: string;
  readonly aor?: string;
  /** As EndpointList prints it: `Not in use`, `Unavailable`, `In use`, … */
  readonly deviceState?: string;
}

export interface FakePjsipContact {
  readonly aor: string;
  readonly endpoint: string;
  readonly uri: string;
  /** `Reachable`, `Unreachable`, `NonQualified`, `Unknown`. */
  readonly status: string;
  readonly roundtripUsec?: string;
  readonly viaAddr?: string;
  readonly viaPort?: string;
  readonly userAgent?: string;
}

export interface FakeOutboundRegistration {
  readonly name: string;
  readonly endpoint?: string;
  readonly serverUri: string;
  readonly clientUri: string;
  /** `Registered`, `Unregistered`, `Rejected`. */
  readonly status: string;
}

export interface ReceivedAction {
  readonly action: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly session: number;
  readonly at: number;
}

interface Session {
  readonly id: number;
  readonly socket: Socket;
  authenticated: boolean;
  /** Write classes granted at login. */
  write: ReadonlySet<string>;
  events: boolean;
  buffer: string;
}

const PRIVILEGE: Record<string, string> = {
  InvalidAccountID: 'security,all', ChallengeResponseFailed: 'security,all', InvalidPassword: 'security,all', FailedACL: 'security,all',
  SuccessfulAuth: 'security,all', ChallengeSent: 'security,all', DeviceStateChange: 'call,all', QueueMemberStatus: 'agent,all',
};

function isFrame(value: Readonly<Record<string, string>> | AmiFrame): value is AmiFrame {
  return Array.isArray(value);
}

export class FakeAmiServer {
  readonly received: ReceivedAction[] = [];
  readonly logins: { username: string; ok: boolean; at: number }[] = [];
  endpoints: FakePjsipEndpoint[] = [];
  contacts: FakePjsipContact[] = [];
  registrations: FakeOutboundRegistration[] = [];
  /** CLI output per `Command`; the default prints nothing. */
  commandOutput: (command: string) => string[] = () => [];
  /** Modules reloaded through the `Reload` action, in order. */
  readonly reloads: string[] = [];
  /** Actions refused with `Permission denied` after login. */
  readonly denied: string[] = [];
  private server: Server | undefined;
  private listenPort = 0;
  private readonly sessions = new Set<Session>();
  private readonly delays = new Map<string, number>();
  private readonly swallowed = new Set<string>();
  private sessionSeq = 0;
  private readonly username: string;
  private readonly secret: string;
  private write: Set<string>;
  private readonly modules: Set<string>;

  constructor(private readonly options: FakeAmiOptions = {}) {
    this.username = options.username ?? 'hotline';
    this.secret = options.secret ?? 'secret';
    this.write = parsePermissions(options.write ?? 'all');
    this.modules = new Set(options.modules ?? ['res_pjsip.so', 'res_pjsip_acl.so', 'chan_pjsip.so', 'pbx_config.so', 'res_ari.so']);
  }

  /** Changes the user's `write` classes for later logins (manager.c copies them into a session at login). */
  setWrite(write: string): void {
    this.write = parsePermissions(write);
  }

  get port(): number {
    return this.listenPort;
  }

  /** Logged-in sessions that are still open. */
  get authenticatedSessions(): number {
    return [...this.sessions].filter((s) => s.authenticated && !s.socket.destroyed).length;
  }

  async start(port = 0): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const address = server.address();
    this.listenPort = typeof address === 'object' && address ? address.port : port;
    return this.listenPort;
  }

  /** Stops listening (new connections are refused) and drops every session. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port after refuse(). */
  async resume(): Promise<void> {
    await this.start(this.listenPort);
  }

  async stop(): Promise<void> {
    await this.refuse();
  }

  dropConnections(): void {
    for (const s of this.sessions) s.socket.destroy();
    this.sessions.clear();
  }

  /** Delays the response to `action` (case-insensitive) by `ms`; 0 removes the delay. */
  delay(action: string, ms: number): void {
    if (ms > 0) this.delays.set(action.toLowerCase(), ms);
    else this.delays.delete(action.toLowerCase());
  }

  /** Never answers `action` (until allowed again). */
  swallow(action: string, on = true): void {
    if (on) this.swallowed.add(action.toLowerCase());
    else this.swallowed.delete(action.toLowerCase());
  }

  /** Sends an event to every logged-in session with events on. Privilege is added when missing. */
  emitEvent(name: string, fields: Readonly<Record<string, string>> | AmiFrame = {}): void {
    const list: [string, string][] = isFrame(fields) ? fields.map(([k, v]): [string, string] => [k, v]) : Object.entries(fields);
    if (!list.some(([k]) => k.toLowerCase() === 'privilege')) list.unshift(['Privilege', PRIVILEGE[name] ?? 'system,all']);
    this.broadcast([['Event', name], ...list]);
  }

  /** Sends a recorded frame (e.g. from a capture) unchanged to every logged-in session. */
  broadcast(frame: AmiFrame): void {
    const text = serializeFrame(frame);
    for (const s of this.sessions) if (s.authenticated && s.events && !s.socket.destroyed) s.socket.write(text);
  }

  actions(name: string): ReceivedAction[] {
    return this.received.filter((r) => r.action.toLowerCase() === name.toLowerCase());
  }

  private accept(socket: Socket): void {
    const session: Session = { id: ++this.sessionSeq, socket, authenticated: false, write: new Set(), events: true, buffer: '' };
    this.sessions.add(session);
    socket.setEncoding('utf8');
    socket.on('error', () => { /* peers vanish; nothing to do */ });
    socket.on('close', () => this.sessions.delete(session));
    socket.on('data', (chunk: string) => {
      session.buffer += chunk;
      let end: RegExpExecArray | null;
      while ((end = /\r?\n\r?\n/.exec(session.buffer))) {
        const block = session.buffer.slice(0, end.index);
        session.buffer = session.buffer.slice(end.index + end[0].length);
        if (block.trim() !== '') this.handle(session, block);
      }
    });
    socket.write(`Asterisk Call Manager/${this.options.version ?? '12.0.0'}\r\n`);
  }

  private handle(session: Session, block: string): void {
    const headers: Record<string, string> = {};
    for (const line of block.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const action = headers.action ?? '';
    this.received.push({ action, headers, session: session.id, at: Date.now() });
    const key = action.toLowerCase();
    if (this.swallowed.has(key)) return;
    const wait = this.delays.get(key) ?? 0;
    const respond = (): void => { if (!session.socket.destroyed) this.respond(session, key, headers); };
    if (wait > 0) setTimeout(respond, wait);
    else respond();
  }

  private send(session: Session, frame: AmiFrame): void {
    session.socket.write(serializeFrame(frame));
  }

  private response(headers: Record<string, string>, status: string, rest: AmiFrame = []): AmiFrame {
    const frame: (readonly [string, string])[] = [['Response', status]];
    if (headers.actionid) frame.push(['ActionID', headers.actionid]);
    return [...frame, ...rest];
  }

  private respond(session: Session, action: string, h: Record<string, string>): void {
    if (action === 'login') return this.login(session, h);
    if (action === 'logoff') {
      this.send(session, this.response(h, 'Goodbye', [['Message', 'Thanks for all the fish.']]));
      session.socket.end();
      return;
    }
    if (!session.authenticated) {
      this.send(session, this.response(h, 'Error', [['Message', 'Permission denied']]));
      return;
    }
    if (!permits(session.write, action)) {
      this.denied.push(h.action ?? action);
      this.send(session, this.response(h, 'Error', [['Message', 'Permission denied']]));
      return;
    }
    switch (action) {
      case 'ping':
        this.send(session, this.response(h, 'Success', [['Ping', 'Pong'], ['Timestamp', (Date.now() / 1000).toFixed(6)]]));
        return;
      case 'events': {
        session.events = !/^(off|false|no|0)$/i.test(h.eventmask ?? 'on');
        this.send(session, this.response(h, 'Success', [['Events', session.events ? 'On' : 'Off']]));
        return;
      }
      case 'command': {
        const output = this.commandOutput(h.command ?? '').map((line): [string, string] => ['Output', line]);
        this.send(session, this.response(h, 'Success', [['Message', 'Command output follows'], ...output]));
        return;
      }
      case 'pjsipshowendpoints':
        if (this.endpoints.length === 0) {
          this.send(session, this.response(h, 'Error', [['Message', 'No endpoints found']]));
          return;
        }
        this.list(session, h, 'A listing of Endpoints follows, presented as EndpointList events', 'EndpointList', this.endpoints.map((e) => [
          ['ObjectType', 'endpoint'], ['ObjectName', e.name], ['Transport', ''], ['Aor', e.aor ?? e.name], ['Auths', e.name], ['OutboundAuths', ''],
          ['Contacts', this.contacts.filter((c) => c.aor === (e.aor ?? e.name)).map((c) => `${c.aor}/${c.uri}`).join(',')],
          ['DeviceState', e.deviceState ?? 'Unavailable'], ['ActiveChannels', ''],
        ]));
        return;
      case 'pjsipshowcontacts':
        this.list(session, h, 'A listing of Contacts follows, presented as ContactList events', 'ContactList', this.contacts.map((c, i) => [
          ['ObjectType', 'contact'], ['ObjectName', `${c.aor};@${(0x5f3759df + i).toString(16)}`], ['ViaAddr', c.viaAddr ?? ''], ['ViaPort', c.viaPort ?? '0'],
          ['QualifyTimeout', '3.000000'], ['CallId', ''], ['RegServer', ''], ['PruneOnBoot', 'no'], ['Path', ''], ['Endpoint', c.endpoint],
          ['AuthenticateQualify', 'no'], ['Uri', c.uri], ['QualifyFrequency', '60'], ['UserAgent', c.userAgent ?? ''], ['ExpirationTime', '0'],
          ['OutboundProxy', ''], ['Status', c.status], ['RoundtripUsec', c.roundtripUsec ?? 'N/A'],
        ]));
        return;
      case 'pjsipshowregistrationsoutbound':
        this.list(session, h, 'Following are Events for each Outbound registration', 'OutboundRegistrationDetail', this.registrations.map((r) => [
          ['ObjectType', 'registration'], ['ObjectName', r.name], ['ClientUri', r.clientUri], ['ServerUri', r.serverUri], ['Endpoint', r.endpoint ?? ''],
          ['Transport', ''], ['OutboundAuth', ''], ['Expiration', '3600'], ['Status', r.status], ['NextReg', '0'],
        ]));
        return;
      case 'reload': {
        const module = h.module ?? '';
        if (module !== '' && !this.modules.has(module)) {
          this.send(session, this.response(h, 'Error', [['Message', 'No such module']]));
          return;
        }
        this.reloads.push(module);
        this.send(session, this.response(h, 'Success', [['Message', 'Module Reloaded']]));
        return;
      }
      default:
        this.send(session, this.response(h, 'Error', [['Message', `Invalid/unknown command: ${h.action ?? action}. Use Action: ListCommands to show available commands.`]]));
    }
  }

  private login(session: Session, h: Record<string, string>): void {
    if (session.authenticated) {
      this.send(session, this.response(h, 'Success', [['Message', 'Already authenticated']]));
      return;
    }
    const ok = h.username === this.username && h.secret === this.secret;
    this.logins.push({ username: h.username ?? '', ok, at: Date.now() });
    if (!ok) {
      const reject = (): void => {
        if (session.socket.destroyed) return;
        this.send(session, this.response(h, 'Error', [['Message', 'Authentication failed']]));
        session.socket.end();
      };
      const wait = this.options.authFailureDelayMs ?? 0;
      if (wait > 0) setTimeout(reject, wait);
      else reject();
      return;
    }
    session.authenticated = true;
    session.write = this.write;
    if (h.events !== undefined) session.events = !/^(off|false|no|0)$/i.test(h.events);
    this.send(session, this.response(h, 'Success', [['Message', 'Authentication accepted']]));
    if (!session.events) return;
    const now = new Date().toISOString().replace('Z', '+0000');
    const remote = `IPV4/TCP/${session.socket.remoteAddress ?? '127.0.0.1'}/${session.socket.remotePort ?? 0}`;
    this.send(session, [['Event', 'FullyBooted'], ['Privilege', 'system,all'], ['Uptime', '28'], ['LastReload', '28'], ['Status', 'Fully Booted']]);
    this.send(session, [
      ['Event', 'SuccessfulAuth'], ['Privilege', 'security,all'], ['EventTV', now], ['Severity', 'Informational'], ['Service', 'AMI'],
      ['EventVersion', '1'], ['AccountID', this.username], ['SessionID', `0x${session.id.toString(16).padStart(12, '0')}`],
      ['LocalAddress', `IPV4/TCP/127.0.0.1/${this.listenPort}`], ['RemoteAddress', remote], ['UsingPassword', '0'], ['SessionTV', now],
    ]);
  }

  private list(session: Session, h: Record<string, string>, message: string, eventName: string, items: AmiFrame[]): void {
    this.send(session, this.response(h, 'Success', [['EventList', 'start'], ['Message', message]]));
    const id: [string, string][] = h.actionid ? [['ActionID', h.actionid]] : [];
    for (const item of items) this.send(session, [['Event', eventName], ...id, ...item]);
    this.send(session, [['Event', `${eventName}Complete`], ...id, ['EventList', 'Complete'], ['ListItems', String(items.length)]]);
  }
}
