import { commitMode } from './commit-mode.js';
import { isRetryableConflict } from './database-errors.js';
import { JournalError } from './errors.js';
import type { QueryConfig } from 'pg';
import { named, type SqlClient } from './sql-client.js';
import type { StoredResponse, TransactionKey } from './transaction-key.js';

/** The txn_key row a claim ended on, from the point of view of one caller. */
export interface ClaimedRow {
  id: number;
  /** True only for the one caller whose INSERT created the row. */
  created: boolean;
  /** The digest stored on the row (the creator's), to compare with the caller's. */
  digest: Buffer;
  response: StoredResponse | undefined;
}

interface PendingClaim {
  key: TransactionKey;
  digest: Buffer;
  mti: string;
  resolve: (row: ClaimedRow) => void;
  reject: (error: unknown) => void;
}

interface KeyRowRecord {
  ord: number;
  /** int8: a string with pg's default parsers, a bigint with the ledger pool's. */
  id: string | bigint;
  created: boolean;
  request_digest: Buffer | null;
  response_code: string | null;
  response_54: string | null;
  response_48: string | null;
}

// Inserts every key of the batch in one statement and returns the ones it created. Keys that already
// existed (retransmissions, duplicates: rare) come back missing and are read by READ_EXISTING. The hot
// statement never reads txn_key itself: as a named statement its plan is cached, and a join planned while
// the table was small kept scanning all of it as it grew.
// ORDER BY ord makes every instance insert in the same (sorted) order, so two batches with overlapping keys
// wait on each other instead of deadlocking.
const claimBatch = (commit: string): string => `
WITH input AS (
  SELECT i.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[])
    WITH ORDINALITY AS i(acquirer_id, stan, transmission_at, terminal_id, request_digest, mti, ord)${commit}
), created AS (
  INSERT INTO txn_key (acquirer_id, stan, transmission_at, terminal_id, request_digest, mti, instance_id)
  SELECT acquirer_id, stan, transmission_at, terminal_id, request_digest, mti, $7 FROM input ORDER BY ord
  ON CONFLICT (acquirer_id, stan, transmission_at, terminal_id) DO NOTHING
  RETURNING id, acquirer_id, stan, transmission_at, terminal_id
)
SELECT input.ord::int AS ord, created.id, true AS created, NULL::bytea AS request_digest,
  NULL::text AS response_code, NULL::text AS response_54, NULL::text AS response_48
FROM created JOIN input USING (acquirer_id, stan, transmission_at, terminal_id)`;

const READ_EXISTING = `
SELECT i.ord::int AS ord, t.id, false AS created, t.request_digest, t.response_code, t.response_54, t.response_48
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
  WITH ORDINALITY AS i(acquirer_id, stan, transmission_at, terminal_id, ord)
JOIN txn_key t USING (acquirer_id, stan, transmission_at, terminal_id)`;

/** A deadlock should be impossible given the ordering above; this is the belt to those braces. */
const CONFLICT_RETRIES = 3;

function keyString(key: TransactionKey): string {
  return `${key.acquirerId}\u0000${key.stan}\u0000${key.transmissionAt}\u0000${key.terminalId}`;
}

function responseOf(record: KeyRowRecord): StoredResponse | undefined {
  if (record.response_code === null) return undefined;
  return {
    responseCode: record.response_code,
    additionalAmounts: record.response_54 ?? undefined,
    additionalData: record.response_48 ?? undefined,
  };
}

export interface ClaimBatcherOptions {
  instanceId: string;
  maxBatchSize: number;
  maxBatchesInFlight: number;
  /** Wait for the WAL flush on every claim (see commit-mode.ts). */
  synchronousCommit: boolean;
}

/**
 * Turns concurrent claims into one INSERT per batch. Claims made in the same turn of the event loop
 * (setImmediate) share a statement; while `maxBatchesInFlight` statements are out, new claims pile up
 * for the next one, so batches grow with load instead of round trips.
 */
export class ClaimBatcher {
  private pending: PendingClaim[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly claimSql: string;
  private readonly claimName: string;

  constructor(
    private readonly client: SqlClient,
    private readonly options: ClaimBatcherOptions,
  ) {
    this.claimSql = claimBatch(commitMode(options.synchronousCommit));
    this.claimName = `jht_claim_v1_${options.synchronousCommit ? 'sync' : 'async'}`;
  }

  /** `key` must already be normalised (see normaliseKey). */
  submit(key: TransactionKey, digest: Buffer, mti: string): Promise<ClaimedRow> {
    return new Promise<ClaimedRow>((resolve, reject) => {
      this.pending.push({ key, digest, mti, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.pending.length === 0 || this.inFlight >= this.options.maxBatchesInFlight) return;
    this.scheduled = true;
    setImmediate(this.dispatch);
  }

  private readonly dispatch = (): void => {
    this.scheduled = false;
    while (this.pending.length > 0 && this.inFlight < this.options.maxBatchesInFlight) {
      const batch = this.pending.splice(0, this.options.maxBatchSize);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  };

  private async run(batch: readonly PendingClaim[]): Promise<void> {
    // Same key twice in one batch: only the first goes to the database; the others are settled from its row.
    const groups = new Map<string, PendingClaim[]>();
    for (const claim of batch) {
      const id = keyString(claim.key);
      const group = groups.get(id);
      if (group) group.push(claim);
      else groups.set(id, [claim]);
    }
    const ordered = [...groups.keys()].sort().map((id) => groups.get(id)!);
    try {
      const records = await this.claimAll(ordered.map((group) => group[0]!));
      ordered.forEach((group, index) => this.settle(group, records.get(index + 1)));
    } catch (error) {
      const failure = new JournalError('JOURNAL_STORE_UNAVAILABLE', 'duplicate detection: claim failed', { cause: error });
      for (const claim of batch) claim.reject(failure);
    }
  }

  /** Returns the rows by 1-based position in `claims`. */
  private async claimAll(claims: readonly PendingClaim[]): Promise<Map<number, KeyRowRecord>> {
    const keyColumns = [
      claims.map((c) => c.key.acquirerId),
      claims.map((c) => c.key.stan),
      claims.map((c) => c.key.transmissionAt),
      claims.map((c) => c.key.terminalId),
    ];
    const values = [...keyColumns, claims.map((c) => c.digest), claims.map((c) => c.mti), this.options.instanceId];
    const records = new Map<number, KeyRowRecord>();
    for (const record of (await this.query(named(this.claimName, this.claimSql, values))).rows) records.set(record.ord, record);
    if (records.size < claims.length) {
      // Already there: an earlier request, or a concurrent insert from another statement (committed by now).
      for (const record of (await this.query(READ_EXISTING, keyColumns)).rows) {
        if (!records.has(record.ord)) records.set(record.ord, record);
      }
    }
    return records;
  }

  private async query(text: string | QueryConfig, values?: unknown[]): Promise<{ rows: KeyRowRecord[] }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.client.query<KeyRowRecord>(text, values);
      } catch (error) {
        if (attempt > CONFLICT_RETRIES || !isRetryableConflict(error)) throw error;
      }
    }
  }

  private settle(group: readonly PendingClaim[], record: KeyRowRecord | undefined): void {
    if (record === undefined) {
      const vanished = new JournalError('JOURNAL_KEY_VANISHED', 'duplicate detection: key conflicted but its row is gone');
      for (const claim of group) claim.reject(vanished);
      return;
    }
    const first = group[0]!;
    const id = Number(record.id);
    const digest = record.created ? first.digest : record.request_digest!;
    const response = responseOf(record);
    first.resolve({ id, created: record.created, digest, response });
    for (let i = 1; i < group.length; i++) group[i]!.resolve({ id, created: false, digest, response });
  }
}
