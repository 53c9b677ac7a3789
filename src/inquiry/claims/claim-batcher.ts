import type { QueryConfig } from 'pg';
import { LOOKUP_COLUMNS, hashColumn, lookupJoins, lookupWidth, participantOf, type InstrumentRef, type LookupColumns, type LookupWidth, type ParticipantLookup } from '../../ledger/index.js';
import { commitMode } from '../../journal/commit-mode.js';
import { isRetryableConflict } from '../../journal/database-errors.js';
import { JournalError } from '../../journal/errors.js';
import { TurnBatcher } from '../../journal/turn-batcher.js';
import { named, type SqlClient } from '../../journal/sql-client.js';
import type { RequestDigest } from '../../journal/request-digest.js';
import type { InquiryKey, StoredAnswer } from './claim.js';

/** The inquiry_key row a claim ended on, from the point of view of one caller. */
export interface ClaimedRow {
  id: number;
  /** True only for the one caller whose INSERT created the row. */
  created: boolean;
  /** The digest stored on the row (the creator's), to compare with the caller's. */
  digest: Buffer;
  /** The id of the key that made `digest`; null on rows from before key ids were stored. */
  digestKeyId: string | null;
  answer: StoredAnswer | undefined;
  /** The instance that holds the claim (for a re-claim of an unknown outcome). */
  claimedBy: string;
  /** How long ago the claim was made, by the database's clock (0 for one made by this statement). */
  ageMs: number;
  /** For the creator of a claim made with an instrument: the ledger read in the same statement. */
  lookup?: ParticipantLookup;
}

interface PendingClaim {
  key: InquiryKey;
  digest: RequestDigest;
  requestType: string;
  read: InstrumentRef | undefined;
  resolve: (row: ClaimedRow) => void;
  reject: (error: unknown) => void;
}

interface KeyRowRecord extends Partial<LookupColumns> {
  ord: number;
  /** int8: a string with pg's default parsers, a bigint with the ledger pool's. */
  id: string | bigint;
  created: boolean;
  request_digest: Buffer | null;
  digest_key_id: string | null;
  instance_id: string | null;
  age_ms: number | null;
  outcome: string | null;
  body: Record<string, string | null> | null;
}

// Inserts every key of the batch in one statement and returns the ones it created. Keys that already
// existed (retransmissions, duplicates: rare) come back missing and are read by READ_EXISTING. The hot
// statement never reads inquiry_key itself: as a named statement its plan is cached, and a join planned while
// the table was small kept scanning all of it as it grew.
// ORDER BY ord makes every instance insert in the same (sorted) order, so two batches with overlapping keys
// wait on each other instead of deadlocking.
// The same statement reads the ledger for each claim that names an instrument ($8, $9: null for none):
// a new request needs both, and on a small machine a PostgreSQL round trip costs more than either query: one
// statement instead of two per batch took about a fifth off PostgreSQL's CPU per inquiry (scripts/bench/compare.ts).
// During a rotation window ($11: the previous key's hashes) the read tries both keys (lookupJoins).
const claimBatch = (commit: string, width: LookupWidth): string => `
WITH input AS (
  SELECT i.* FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $7::text[], $8::bytea[], $9::text[]${width === 2 ? ', $10::bytea[]' : ''})
    WITH ORDINALITY AS i(channel, requester, idem_key, request_digest, request_type, read_kind, read_hash, digest_key_id${width === 2 ? ', read_previous_hash' : ''}, ord)${commit}
), created AS (
  INSERT INTO inquiry_key (channel, requester, idem_key, request_digest, digest_key_id, request_type, instance_id)
  SELECT channel, requester, idem_key, request_digest, digest_key_id, request_type, $6 FROM input ORDER BY ord
  ON CONFLICT (channel, requester, idem_key) DO NOTHING
  RETURNING id, channel, requester, idem_key
)
SELECT input.ord::int AS ord, created.id, true AS created, NULL::bytea AS request_digest, NULL::text AS digest_key_id, NULL::text AS instance_id, 0 AS age_ms,
  NULL::text AS outcome, NULL::jsonb AS body,
  ${LOOKUP_COLUMNS}
FROM created JOIN input USING (channel, requester, idem_key)
  ${lookupJoins('input.read_kind', width === 2 ? ['input.read_hash', 'input.read_previous_hash'] : ['input.read_hash'])}`;

const READ_EXISTING = `
SELECT i.ord::int AS ord, k.id, false AS created, k.request_digest, k.digest_key_id, k.instance_id,
  (extract(epoch FROM clock_timestamp() - k.created_at) * 1000)::int AS age_ms, a.outcome, a.body
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS i(channel, requester, idem_key, ord)
JOIN inquiry_key k USING (channel, requester, idem_key)
LEFT JOIN inquiry_answer a ON a.inquiry_key_id = k.id`;

/** A deadlock should be impossible given the ordering above; this is the belt to those braces. */
const CONFLICT_RETRIES = 3;

function keyString(key: InquiryKey): string {
  return `${key.channel}\u0000${key.requester}\u0000${key.key}`;
}

function answerOf(record: KeyRowRecord): StoredAnswer | undefined {
  return record.outcome === null ? undefined : { outcome: record.outcome, body: record.body ?? {} };
}

export interface ClaimBatcherOptions {
  instanceId: string;
  maxBatchSize: number;
  maxBatchesInFlight: number;
  /** See TurnBatcher: how long the first claim of a batch waits for more. */
  windowMs: number;
  /** Wait for the WAL flush on every claim (see commit-mode.ts). */
  synchronousCommit: boolean;
  /** Runs each statement, e.g. through the ledger's circuit breaker; default: runs it as is. */
  guard?: <T>(work: () => Promise<T>) => Promise<T>;
}

/**
 * Turns concurrent claims into one INSERT per batch. Claims made in the same turn of the event loop
 * (setImmediate) share a statement; while `maxBatchesInFlight` statements are out, new claims pile up
 * for the next one, so batches grow with load instead of round trips.
 */
export class ClaimBatcher {
  private readonly batcher: TurnBatcher<PendingClaim>;
  /** The claim statement by lookup width: [1] every day, [2] during a rotation window. */
  private readonly claimStatements: Record<LookupWidth, { name: string; text: string }>;

  constructor(
    private readonly client: SqlClient,
    private readonly options: ClaimBatcherOptions,
  ) {
    const commit = commitMode(options.synchronousCommit);
    const mode = options.synchronousCommit ? 'sync' : 'async';
    this.claimStatements = {
      1: { name: `jht_claim_v4_${mode}`, text: claimBatch(commit, 1) },
      2: { name: `jht_claim_rotation_v4_${mode}`, text: claimBatch(commit, 2) },
    };
    this.batcher = new TurnBatcher((batch) => this.run(batch), options.maxBatchSize, options.maxBatchesInFlight, options.windowMs);
  }

  /** `read`: an instrument to look up in the ledger too. */
  submit(key: InquiryKey, digest: RequestDigest, requestType: string, read?: InstrumentRef): Promise<ClaimedRow> {
    return new Promise<ClaimedRow>((resolve, reject) => {
      this.batcher.push({ key, digest, requestType, read, resolve, reject });
    });
  }

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
    const keyColumns = [claims.map((c) => c.key.channel), claims.map((c) => c.key.requester), claims.map((c) => c.key.key)];
    const reads = claims.map((c) => c.read);
    const width = lookupWidth(reads);
    const values = [
      ...keyColumns, claims.map((c) => c.digest.value), claims.map((c) => c.requestType), this.options.instanceId,
      reads.map((read) => read?.kind ?? null), hashColumn(reads, 0), claims.map((c) => c.digest.keyId),
      ...(width === 2 ? [hashColumn(reads, 1)] : []),
    ];
    const statement = this.claimStatements[width];
    const records = new Map<number, KeyRowRecord>();
    for (const record of (await this.query(named(statement.name, statement.text, values))).rows) records.set(record.ord, record);
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
        const run = (): Promise<{ rows: KeyRowRecord[] }> => this.client.query<KeyRowRecord>(text, values);
        return await (this.options.guard ? this.options.guard(run) : run());
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
    const digest = record.created ? first.digest.value : record.request_digest!;
    const digestKeyId = record.created ? first.digest.keyId : record.digest_key_id;
    const answer = answerOf(record);
    const claimedBy = record.instance_id ?? this.options.instanceId;
    const ageMs = record.age_ms ?? 0;
    const lookup = record.created && first.read ? participantOf(record as LookupColumns) : undefined;
    first.resolve({ id, created: record.created, digest, digestKeyId, answer, claimedBy, ageMs, ...(lookup ? { lookup } : {}) });
    for (let i = 1; i < group.length; i++) group[i]!.resolve({ id, created: false, digest, digestKeyId, answer, claimedBy, ageMs });
  }
}
