/**
 * What the rest of the service sees of AMI. Services depend on these interfaces only (never on
 * asterisk-manager), so tests can use the fake AMI server or an in-memory double.
 */

/** Header names are lower-cased (AMI headers are case-insensitive); repeated headers join with '\n'. */
export type AmiFields = Readonly<Record<string, string>>;

export interface AmiEvent {
  /** Event name as Asterisk spells it, e.g. `ContactStatus`. */
  readonly name: string;
  readonly fields: AmiFields;
  /** Set on events that answer a list action. */
  readonly actionId?: string;
  readonly receivedAt: Date;
}

export interface AmiResponse {
  /** `Success`, `Error`, `Follows`, `Goodbye`. */
  readonly response: string;
  readonly message: string | undefined;
  readonly fields: AmiFields;
  /** CLI output of a `Command` action, one entry per line. */
  readonly output: readonly string[];
  /** Events of a list action (EventList: start … Complete), without the completion event. */
  readonly events: readonly AmiEvent[];
}

export interface AmiActionOptions {
  /** Deadline for the whole exchange (response and, for lists, every list event). */
  readonly timeoutMs?: number;
}

export type AmiLinkState = 'connecting' | 'connected' | 'down' | 'closed';

export interface AmiError {
  readonly code: string;
  readonly message: string;
  readonly at: Date;
}

/** For /readyz. */
export interface AmiStatus {
  readonly state: AmiLinkState;
  readonly since: Date;
  readonly lastError: AmiError | null;
  /** Connection attempts since the last successful login. */
  readonly failedAttempts: number;
  /** Increments on every successful login (a re-seed is due whenever it changes). */
  readonly session: number;
}

/**
 * A task the adapter runs on every session (seeding endpoint state, applying the SIP block list):
 * `forbidden` means Asterisk answered `Permission denied` (fix manager.conf `write`); `failed`
 * any other error. Both are retried (forbidden slowly: classes are fixed per login).
 */
export type AmiTaskState = 'idle' | 'running' | 'ok' | 'failed' | 'forbidden' | 'disabled';

export interface AmiTaskStatus {
  readonly state: AmiTaskState;
  readonly since: Date;
  /** Why it failed: the action and Asterisk's message. */
  readonly error?: AmiError & { readonly action?: string };
}

/** Unsubscribe function returned by every `on…` method. */
export type Unsubscribe = () => void;

/** The AMI port: actions with deadlines, events, connection state. */
export interface AmiClient {
  action(name: string, params?: Readonly<Record<string, string>>, options?: AmiActionOptions): Promise<AmiResponse>;
  onEvent(listener: (event: AmiEvent) => void): Unsubscribe;
  /** Called after every successful (re)login (the session's first events may precede it). */
  onConnected(listener: (session: number) => void): Unsubscribe;
  onStatus(listener: (status: AmiStatus) => void): Unsubscribe;
  status(): AmiStatus;
}

// ---------------------------------------------------------------------------------------------
// Registration state of phones and trunks

export type ContactState = 'reachable' | 'unreachable' | 'unknown' | 'created' | 'updated' | 'nonqualified';

export interface ContactInfo {
  readonly uri: string;
  /** `host:port` the contact is reached at (Via address when Asterisk reports one, else from the URI). */
  readonly address: string | undefined;
  readonly status: ContactState;
  readonly rttMs?: number;
  readonly userAgent?: string;
}

export type DeviceState = 'unknown' | 'not_inuse' | 'inuse' | 'busy' | 'invalid' | 'unavailable' | 'ringing' | 'ringinuse' | 'onhold';

export type RegistrationState = 'registered' | 'unregistered' | 'rejected' | 'failed' | 'unknown';

export interface OutboundRegistration {
  readonly name: string;
  readonly endpoint: string | undefined;
  readonly serverUri: string;
  readonly clientUri: string;
  readonly status: RegistrationState;
  readonly since: Date;
}

export interface EndpointStatus {
  readonly endpoint: string;
  readonly online: boolean;
  readonly contacts: readonly ContactInfo[];
  readonly deviceState: DeviceState;
  /** Outbound registration (trunks that register to a carrier). */
  readonly registration?: RegistrationState;
  /** When `online` last changed. */
  readonly since: Date;
}

export interface EndpointStatusChange {
  readonly endpoint: string;
  readonly previous: EndpointStatus | undefined;
  readonly current: EndpointStatus;
  /** What moved: the online flag, the contacts (set, address or reachability), the device state. */
  readonly onlineChanged: boolean;
  readonly contactsChanged: boolean;
  readonly deviceStateChanged: boolean;
}
