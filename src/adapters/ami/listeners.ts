import type { Logger } from 'pino';
import type { Unsubscribe } from './types.js';

/** A listener list whose failures are logged, never thrown into the AMI read loop. */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  add(listener: (value: T) => void): Unsubscribe {
    this.set.add(listener);
    return () => { this.set.delete(listener); };
  }

  emit(value: T): void {
    for (const listener of [...this.set]) {
      try {
        listener(value);
      } catch (err) {
        this.logger.error({ err }, `${this.what} listener failed`);
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}
