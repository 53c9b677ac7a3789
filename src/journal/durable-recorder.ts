import { JournalError } from './errors.js';
import { TurnBatcher } from './turn-batcher.js';
import type { JournalEntry } from './journal-entry.js';
import { INSTANCE_PARAMETER, insertJournalSql, journalValues, toRow, type JournalRow } from './journal-row.js';
import { named, type SqlClient } from './sql-client.js';

/**
 * The durable half of the journal: an answer that comes from the inquiry path (00, 14, 57, 94, a replay, a
 * 96 after a claim, a 0430) leaves the switch only once its journal row, and the stored answer a
 * retransmission will need, are on disk. Both go in one statement with synchronous commit forced on, whatever
 * the server's default, so the statement returns only after the WAL flush.
 *
 * The claim before it may commit asynchronously: its commit record precedes this statement's in the WAL,
 * and a flush covers everything before it, so a durable answer implies a durable claim.
 *
 * Answers that finish together share one statement, and so one WAL flush (group commit): records made in
 * the same turn of the event loop go together, and while `maxInFlight` statements are out, new ones pile up
 * for the next, so batches grow with load instead of flushes.
 */

const DURABLE_COMMIT = ", (SELECT set_config('synchronous_commit', 'on', true)) AS durable_commit";

/** The stored answers' parameters follow the journal's. */
const A = INSTANCE_PARAMETER + 1;

const durableSql = `
WITH answers AS (
  INSERT INTO inquiry_answer (inquiry_key_id, outcome, body, responded_at)
  SELECT a.id, a.outcome, a.body, a.at
  FROM unnest($${A}::bigint[], $${A + 1}::text[], $${A + 2}::jsonb[], $${A + 3}::timestamptz[]) AS a(id, outcome, body, at)
  -- First answer wins: a reprocessed unknown outcome must not replace an answer that made it after all.
  ON CONFLICT (inquiry_key_id) DO NOTHING
)
${insertJournalSql(DURABLE_COMMIT)}`;

const DURABLE_NAME = 'jht_journal_durable_v4';

/**
 * The answer to store for a claimed key (inquiry_key), for its repeats: its key, the outcome in the channel's
 * terms (an ISO response code, the core's outcome) and the body the repeat is rebuilt from, stored as jsonb.
 */
export interface AnswerToStore {
  inquiryKeyId: number;
  outcome: string;
  body: Readonly<Record<string, unknown>>;
}

interface Pending {
  row: JournalRow;
  answer: AnswerToStore | undefined;
  respondedAt: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface DurableRecorderOptions {
  instanceId: string;
  maxBatchSize?: number;
  maxInFlight?: number;
  /** How long an answer waits for others to share its commit (TurnBatcher); default 0, the next turn. */
  windowMs?: number;
  /** Runs each statement, e.g. through the ledger's circuit breaker. */
  guard?: <T>(work: () => Promise<T>) => Promise<T>;
}

export class DurableRecorder {
  private readonly batcher: TurnBatcher<Pending>;

  constructor(
    private readonly client: SqlClient,
    private readonly options: DurableRecorderOptions,
  ) {
    this.batcher = new TurnBatcher((batch) => this.run(batch), options.maxBatchSize ?? 500, options.maxInFlight ?? 2, options.windowMs ?? 0);
  }

  /**
   * Resolves once the row (and the answer, if any) is durable. Rejects with JOURNAL_STORE_UNAVAILABLE when
   * the statement failed: then nothing of it was written, and the caller must not send that answer.
   */
  commit(entry: JournalEntry, answer?: AnswerToStore): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const row = toRow(entry);
      this.batcher.push({ row, answer, respondedAt: row.respondedAt ?? row.receivedAt, resolve, reject });
    });
  }

  /** Statements out plus rows waiting for one (a gauge; shutdown waits for it to reach 0). */
  get depth(): number {
    return this.batcher.depth;
  }

  private async run(batch: readonly Pending[]): Promise<void> {
    const answered = batch.filter((p) => p.answer !== undefined);
    const values: unknown[] = [
      ...journalValues(batch.map((p) => p.row)),
      this.options.instanceId,
      answered.map((p) => p.answer!.inquiryKeyId),
      answered.map((p) => p.answer!.outcome),
      answered.map((p) => JSON.stringify(p.answer!.body)),
      answered.map((p) => p.respondedAt),
    ];
    try {
      const run = () => this.client.query(named(DURABLE_NAME, durableSql, values));
      await (this.options.guard ? this.options.guard(run) : run());
    } catch (error) {
      const failure = new JournalError('JOURNAL_STORE_UNAVAILABLE', 'journal: durable commit failed', { cause: error });
      for (const p of batch) p.reject(failure);
      return;
    }
    for (const p of batch) p.resolve();
  }
}
