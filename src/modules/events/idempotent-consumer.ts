/**
 * Exactly-once effects over at-least-once delivery: the event id is recorded in the same
 * transaction as the handler's own writes, so a redelivered or re-published event is skipped.
 */
import type { Database, Tx } from '../../adapters/db/database.js';
import type { ConsumedEventsRepository } from './consumed.repository.js';
import type { EventEnvelope, EventHandler } from './events.js';

export function idempotent(
  db: Database,
  consumed: ConsumedEventsRepository,
  consumer: string,
  handle: (event: EventEnvelope, tx: Tx) => Promise<void>,
): EventHandler {
  return async (event) => {
    await db.transaction().execute(async (tx) => {
      if (!(await consumed.markIfNew(tx, consumer, event.id))) return;
      await handle(event, tx);
    });
  };
}
