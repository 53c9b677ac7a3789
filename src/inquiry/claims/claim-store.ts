import { setTimeout as sleep } from 'node:timers/promises';
import { LOOKUP_COLUMNS, lookupJoins, participantOf, type InstrumentRef, type LookupColumns, type ParticipantLookup } from '../../ledger/index.js';
import { digestMatches, type RequestDigest } from '../../journal/request-digest.js';
import { describeDatabaseError } from '../../journal/database-errors.js';
import type { SqlClient } from '../../journal/sql-client.js';
import type { Logger } from '../../observability/logger.js';
import { ClaimBatcher } from './claim-batcher.js';
import type { ClaimOutcome, InquiryKey, ReversalMark, StoredAnswer } from './claim.js';

export interface ClaimStoreOptions {
  /** Identifies this switch process on the rows it creates. */
  instanceId: string;
  logger: Logger;
  /** Keys per claim statement (default 256). */
  maxClaimBatchSize?: number;
  /** Claim statements out at once; more claims wait and join the next batch (default 2). */
  maxClaimBatchesInFlight?: number;
  /** How long a claim waits for others to share its statement (TurnBatcher); default 0, the next turn. */
  batchWindowMs?: number;
  /** How often `awaitAnswer` looks at the database for an original owned by another instance (default 20 ms). */
  answerPollIntervalMs?: number;
  /**
   * Wait for the WAL flush on claims (default false: see commit-mode.ts). Not needed for durability: the
   * answer's durable commit (DurableRecorder) flushes the claim's WAL too before the answer is sent.
   */
  synchronousCommit?: boolean;
  /** Runs each claim statement, e.g. through the ledger's circuit breaker (LedgerReader.guard). */
  guard?: <T>(work: () => Promise<T>) => Promise<T>;
  /**
   * A claim won here and neither answered nor abandoned after this long is abandoned, with a warning
   * (default 60 s): a pipeline path that forgets answered must not grow memory forever.
   */
  unansweredTimeoutMs?: number;
}

type Waiter = (answer: StoredAnswer | undefined) => void;

interface Unanswered {
  claimedAt: number;
  waiters: Waiter[];
}

const READ_ANSWER = 'SELECT outcome, body FROM inquiry_answer WHERE inquiry_key_id = $1';

// An unknown outcome (claimed, never answered: its instance died, or its answer never became durable) is
// taken over by compare-and-set on the claiming instance: of two instances that try at once, one wins.
const RECLAIM = (joins: string, columns: string): string => `
WITH won AS (
  UPDATE inquiry_key SET instance_id = $2
  WHERE id = $1 AND instance_id = $3 AND NOT EXISTS (SELECT 1 FROM inquiry_answer WHERE inquiry_key_id = $1)
  RETURNING id
), input AS (SELECT $4::text AS read_kind, $5::bytea AS read_hash, $6::bytea AS read_previous_hash)
SELECT won.id, ${columns}
FROM won CROSS JOIN input ${joins}`;

// Keeps the first reversal's mark: a 0421 repeat must not move reversed_at or replace the reference.
const MARK_REVERSED = `
WITH target AS (
  SELECT id, reversed_at FROM inquiry_key
  WHERE channel = $1 AND requester = $2 AND idem_key = $3
  FOR UPDATE
)
UPDATE inquiry_key t
SET reversed_at = coalesce(target.reversed_at, now()), reversal_ref = coalesce(t.reversal_ref, $4)
FROM target WHERE t.id = target.id
RETURNING t.id, target.reversed_at IS NOT NULL AS already_reversed`;

const PRUNE = `
WITH doomed AS (SELECT id FROM inquiry_key WHERE channel = $3 AND created_at < $1 LIMIT $2),
answers AS (DELETE FROM inquiry_answer WHERE inquiry_key_id IN (SELECT id FROM doomed))
DELETE FROM inquiry_key WHERE id IN (SELECT id FROM doomed)`;

/**
 * The claim of a channel's request key, the ledger read in the same statement, and the wait for a stored
 * answer: the ATM's statement (claim, ledger read; the journal row and stored answer follow in the durable
 * journal's statement, src/journal/durable-recorder.ts), shared by every switch instance on one database.
 * A key is claimed before its request is processed; the first claim wins and processes it, a later claim
 * with the same content is a retransmission (give the stored answer again), with other content a duplicate.
 * Concurrent claims share one INSERT statement (see ClaimBatcher).
 */
export class ClaimStore {
  private readonly claims: ClaimBatcher;
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private readonly instanceId: string;
  /** Claims this instance won and has not answered yet, with whoever waits for the answer. */
  private readonly unanswered = new Map<number, Unanswered>();
  private readonly unansweredTimeoutMs: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly client: SqlClient,
    options: ClaimStoreOptions,
  ) {
    this.log = options.logger;
    this.pollIntervalMs = options.answerPollIntervalMs ?? 20;
    this.unansweredTimeoutMs = options.unansweredTimeoutMs ?? 60_000;
    this.sweeper = setInterval(() => this.abandonForgotten(), Math.max(10, this.unansweredTimeoutMs / 2));
    this.sweeper.unref();
    const synchronousCommit = options.synchronousCommit ?? false;
    this.instanceId = options.instanceId;
    this.claims = new ClaimBatcher(client, {
      instanceId: options.instanceId,
      maxBatchSize: options.maxClaimBatchSize ?? 256,
      maxBatchesInFlight: options.maxClaimBatchesInFlight ?? 2,
      windowMs: options.batchWindowMs ?? 0,
      synchronousCommit,
      ...(options.guard ? { guard: options.guard } : {}),
    });
  }

  /**
   * Claims a request's key. `requestDigest` comes from requestDigest() (with the id of its key, stored beside
   * it) over the request with its MTI
   * repeat digit normalised. With `read`, a new claim also brings the ledger's answer for that instrument,
   * from the same statement. Rejects with JOURNAL_STORE_UNAVAILABLE when the database cannot be reached.
   */
  async claim(key: InquiryKey, requestDigest: RequestDigest, requestType: string, read?: InstrumentRef): Promise<ClaimOutcome> {
    const row = await this.claims.submit(key, requestDigest, requestType, read);
    if (row.created) {
      this.unanswered.set(row.id, { claimedAt: Date.now(), waiters: [] });
      return row.lookup ? { kind: 'new', id: row.id, lookup: row.lookup } : { kind: 'new', id: row.id };
    }
    // Compared under the key that made the stored digest: a repeat that spans a key rotation is still a repeat.
    if (!digestMatches(requestDigest, row.digest, row.digestKeyId)) return { kind: 'duplicate', id: row.id };
    return { kind: 'retransmission', id: row.id, answer: row.answer, claimedBy: row.claimedBy, claimAgeMs: row.ageMs };
  }

  /**
   * The answer to a claim this instance won is durable (DurableRecorder wrote it with its journal row): wakes
   * the retransmissions already waiting for it here. Later ones read it from the database with their claim.
   */
  answered(id: number, answer: StoredAnswer): void {
    const pending = this.unanswered.get(id);
    this.unanswered.delete(id);
    if (pending) for (const wake of pending.waiters) wake(answer);
  }

  /**
   * Takes over a claim whose outcome is unknown: no answer was stored, and none came while waiting. Wins
   * only if the key is still claimed by `claimedBy` and still has no answer; the winner processes the
   * request anew (a balance inquiry is safe to run again), with the ledger read in the same statement.
   */
  async reclaim(id: number, claimedBy: string, read?: InstrumentRef): Promise<{ won: false } | { won: true; lookup?: ParticipantLookup }> {
    const { rows } = await this.client.query<Partial<LookupColumns> & { id: string | bigint }>(
      RECLAIM(lookupJoins('input.read_kind', (read?.hashes.length ?? 0) > 1 ? ['input.read_hash', 'input.read_previous_hash'] : ['input.read_hash']), LOOKUP_COLUMNS),
      [id, this.instanceId, claimedBy, read?.kind ?? null, read?.hashes[0] ?? null, read?.hashes[1] ?? null],
    );
    if (rows.length === 0) return { won: false };
    this.unanswered.set(id, { claimedAt: Date.now(), waiters: [] });
    return read ? { won: true, lookup: participantOf(rows[0] as LookupColumns) } : { won: true };
  }

  /**
   * Gives up on a claim this instance won but will never answer (connection gone, shutdown): whoever waits
   * for its answer is told there is none. A later retransmission stays a retransmission with no stored
   * answer, which `awaitAnswer` reports after its timeout.
   */
  abandon(id: number): void {
    const pending = this.unanswered.get(id);
    this.unanswered.delete(id);
    if (pending) for (const wake of pending.waiters) wake(undefined);
  }

  /**
   * The answer to an original that was still in flight when its retransmission was claimed; undefined if
   * none came within `timeoutMs`. Waits in memory when the original is being processed here, otherwise
   * polls the row (the original's instance writes its answer within a few milliseconds). Never rejects.
   */
  awaitAnswer(id: number, timeoutMs: number): Promise<StoredAnswer | undefined> {
    const pending = this.unanswered.get(id);
    if (pending) {
      return new Promise((resolve) => {
        const wake: Waiter = (answer) => {
          clearTimeout(timer);
          resolve(answer);
        };
        const timer = setTimeout(() => {
          const index = pending.waiters.indexOf(wake);
          if (index >= 0) pending.waiters.splice(index, 1);
          resolve(undefined);
        }, timeoutMs);
        pending.waiters.push(wake);
      });
    }
    return this.pollAnswer(id, timeoutMs);
  }

  /**
   * Marks the original of a reversal advice (0420/0421), found by its key (see originalKeyOf for building
   * it from field 90). `reversalRef` says which advice did it, e.g. the advice's own field 37.
   */
  async markReversed(originalKey: InquiryKey, reversalRef: string): Promise<ReversalMark> {
    const result = await this.client.query<{ id: string | bigint; already_reversed: boolean }>(MARK_REVERSED, [
      originalKey.channel, originalKey.requester, originalKey.key, reversalRef,
    ]);
    const row = result.rows[0];
    if (!row) return { found: false };
    return { found: true, id: Number(row.id), alreadyReversed: row.already_reversed };
  }

  /**
   * Deletes keys created before `cutoff`, a chunk at a time; returns how many. Field 7 has no year, so a
   * key kept long enough would match a new request a year later: run this daily with a cutoff of days.
   */
  async pruneCreatedBefore(channel: string, cutoff: Date, chunkSize = 10_000): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = (await this.client.query(PRUNE, [cutoff.toISOString(), chunkSize, channel])).rowCount ?? 0;
      total += deleted;
      if (deleted < chunkSize) return total;
    }
  }

  /**
   * Claims won here and neither answered nor abandoned (a metrics gauge). It should follow the number of
   * requests in flight; if it only grows, the pipeline misses a answered/abandon on some path.
   */
  get unansweredClaims(): number {
    return this.unanswered.size;
  }

  /** Stops the sweeper and tells whoever waits for an answer that none will come from here. */
  close(): void {
    clearInterval(this.sweeper);
    for (const id of [...this.unanswered.keys()]) this.abandon(id);
  }

  private abandonForgotten(): void {
    const cutoff = Date.now() - this.unansweredTimeoutMs;
    let forgotten = 0;
    for (const [id, pending] of this.unanswered) {
      if (pending.claimedAt > cutoff) break; // insertion order is claim order
      this.abandon(id);
      forgotten++;
    }
    if (forgotten > 0) {
      this.log.warn({ forgotten, timeoutMs: this.unansweredTimeoutMs }, 'claims neither answered nor abandoned: abandoned');
    }
  }

  private async pollAnswer(id: number, timeoutMs: number): Promise<StoredAnswer | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const row = (await this.client.query<{ outcome: string; body: Record<string, string | null> }>(READ_ANSWER, [id])).rows[0];
        if (row) return { outcome: row.outcome, body: row.body };
      } catch (error) {
        this.log.warn({ error: describeDatabaseError(error), inquiryKeyId: id }, 'polling for an original answer failed');
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return undefined;
      await sleep(Math.min(this.pollIntervalMs, remaining));
    }
  }
}
