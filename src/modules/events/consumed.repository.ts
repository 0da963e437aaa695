import type { Tx } from '../../adapters/db/database.js';

export class ConsumedEventsRepository {
  /** True the first time this consumer sees this event id (inside the handler's transaction). */
  async markIfNew(tx: Tx, consumer: string, eventId: string): Promise<boolean> {
    const res = await tx.insertInto('consumedEvents').values({ consumer, eventId })
      .onConflict((oc) => oc.columns(['consumer', 'eventId']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }
}
