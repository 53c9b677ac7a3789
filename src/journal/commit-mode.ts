/**
 * A FROM-list item that turns off synchronous commit for the statement's own (autocommit) transaction:
 * set_config(…, true) lasts until the end of the transaction, which is this statement, and the commit reads
 * the setting before it is reset. The session, shared through the pool with the ledger, is not affected.
 *
 * Why it is the default for the journal's writes: a synchronous commit waits for the WAL flush (several
 * milliseconds on ordinary disks) while the ATM waits for its claim. Asynchronous commit only risks the
 * last few hundred milliseconds of rows if PostgreSQL itself crashes (never corruption), and for this
 * switch that loss is harmless: a lost key means a retransmission is processed again, which for a balance
 * inquiry reads the balance again; a lost journal row is no worse than the rows this process holds in memory.
 */
const ASYNC_COMMIT = ", (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit";

/** `synchronous`: keep the server's setting (usually `on`). */
export function commitMode(synchronous: boolean): string {
  return synchronous ? '' : ASYNC_COMMIT;
}
