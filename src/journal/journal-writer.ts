import type { Logger } from '../observability/logger.js';
import { BatchQueue } from './batch-queue.js';
import { DurableRecorder, type AnswerToStore } from './durable-recorder.js';
import { commitMode } from './commit-mode.js';
import type { JournalEntry } from './journal-entry.js';
import { insertJournalSql, journalValues, toRow, type JournalRow } from './journal-row.js';
import { named, type SqlClient } from './sql-client.js';

export interface JournalWriterOptions {
  /** Identifies this switch process in every row (several instances may share the database). */
  instanceId: string;
  logger: Logger;
  /** A partial batch waits at most this long (default 50 ms). */
  flushIntervalMs?: number;
  /** Rows per INSERT; a full batch is written at once (default 500). */
  maxBatchSize?: number;
  /** Entries held while the database is away; past this, new ones are dropped and logged (default 200,000). */
  capacity?: number;
  /** Depth that logs an error (default 80% of capacity). */
  highWaterMark?: number;
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Wait for the WAL flush on every batch (default false: see commit-mode.ts). */
  synchronousCommit?: boolean;
  /** How long a durable commit waits for more answers to share it (TurnBatcher); default 0. */
  commitWindowMs?: number;
  /** Runs each durable commit, e.g. through the ledger's circuit breaker (LedgerReader.guard). */
  guard?: <T>(work: () => Promise<T>) => Promise<T>;
}

/**
 * The transaction journal, two ways in:
 * - `commit` for answers that come from the inquiry path: the answer waits until its row (and its stored
 *   answer) is durable (see DurableRecorder);
 * - `record` for answers given without the database or before any claim (91, 97, 58, 63, 30, 12, 0810),
 *   which cannot wait for it: entries are queued in memory and written in multi-row INSERTs every
 *   `flushIntervalMs` or `maxBatchSize` entries, whichever comes first. If the database is down they stay
 *   queued (up to `capacity`, loudly past the high-water mark) and are retried with backoff; `close()`
 *   writes what it can before shutdown, and every row lost is counted (`droppedCount`, logged).
 */
export class JournalWriter {
  private readonly queue: BatchQueue<JournalRow>;
  private readonly durable: DurableRecorder;
  private readonly insertSql: string;
  private readonly insertName: string;

  constructor(
    private readonly client: SqlClient,
    options: JournalWriterOptions,
  ) {
    const capacity = options.capacity ?? 200_000;
    const instanceId = options.instanceId;
    this.durable = new DurableRecorder(client, { instanceId, windowMs: options.commitWindowMs ?? 0, ...(options.guard ? { guard: options.guard } : {}) });
    this.insertSql = insertJournalSql(commitMode(options.synchronousCommit ?? false));
    this.insertName = `jht_journal_insert_v3_${options.synchronousCommit ? 'sync' : 'async'}`;
    this.queue = new BatchQueue<JournalRow>({
      name: 'journal',
      write: (batch) => this.insert(batch, instanceId),
      flushIntervalMs: options.flushIntervalMs ?? 50,
      maxBatchSize: options.maxBatchSize ?? 500,
      capacity,
      highWaterMark: options.highWaterMark ?? Math.floor(capacity * 0.8),
      retryInitialDelayMs: options.retryInitialDelayMs ?? 100,
      retryMaxDelayMs: options.retryMaxDelayMs ?? 5_000,
      logger: options.logger,
    });
  }

  /** Resolves once the row, and `answer` if given, are durable; rejects (JOURNAL_STORE_UNAVAILABLE) if not written. */
  commit(entry: JournalEntry, answer?: AnswerToStore): Promise<void> {
    return this.durable.commit(entry, answer);
  }

  /** Queues an entry, best effort; returns at once. The PAN, if any, is masked here. */
  record(entry: JournalEntry): void {
    this.queue.push(toRow(entry));
  }

  /** Entries waiting to be written, durable or best effort (a metrics gauge). */
  get queueDepth(): number {
    return this.queue.depth + this.durable.depth;
  }

  /** Entries lost because the queue was full or closed (each loss is also logged). */
  get droppedCount(): number {
    return this.queue.dropped;
  }

  /** Writes everything recorded so far; rejects if the database does (entries stay queued). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Writes everything, retrying for up to `timeoutMs`; `record` after this drops (and logs). */
  close(timeoutMs = 10_000): Promise<void> {
    return this.queue.close(timeoutMs);
  }

  private async insert(batch: readonly JournalRow[], instanceId: string): Promise<void> {
    await this.client.query(named(this.insertName, this.insertSql, [...journalValues(batch), instanceId]));
  }
}
