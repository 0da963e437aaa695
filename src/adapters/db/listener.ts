/**
 * A dedicated connection that LISTENs on a channel and calls back on every NOTIFY; it reconnects
 * with backoff when PostgreSQL goes away. Used to wake the outbox relay as soon as events commit.
 */
import pg from 'pg';
import type { Logger } from 'pino';

export class PgListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;

  constructor(private readonly url: string, private readonly channel: string, private readonly onNotify: (payload?: string) => void, private readonly logger: Logger) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.url, application_name: `hotline-listen-${this.channel}` });
    client.on('notification', (msg) => this.onNotify(msg.payload));
    client.on('error', (err) => {
      this.logger.warn({ err, channel: this.channel }, 'LISTEN connection lost; reconnecting');
      this.scheduleReconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
      this.client = client;
      this.attempt = 0;
      this.onNotify(); // anything committed while we were away
    } catch (err) {
      this.logger.warn({ err, channel: this.channel }, 'LISTEN connection failed; retrying');
      await client.end().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    const old = this.client;
    this.client = undefined;
    void old?.end().catch(() => undefined);
    const delay = Math.min(30_000, 250 * 2 ** this.attempt++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}
