import type { Pool } from 'pg';
import type { StoredOutcome } from './outcome.js';

/**
 * Idempotency keys in a channel's own terms, (channel, requester, key), shared by every instance on one
 * database (the unique constraint decides who is first). The ATM's keys share the table but not this store:
 * they are claimed in batches with the ledger read (src/inquiry/claims/claim-store.ts). This one is for opaque
 * keys such as REST's `Idempotency-Key`, which are rare next to ATM traffic, so each claim is one plain statement.
 */

export type KeyClaim =
  | { readonly kind: 'new'; readonly id: number }
  /** Seen before with the same request, and decided: answer it again. */
  | { readonly kind: 'replay'; readonly id: number; readonly outcome: StoredOutcome }
  /** Seen before with the same request, still being processed. */
  | { readonly kind: 'in-flight'; readonly id: number }
  /** Seen before with another request. */
  | { readonly kind: 'reused'; readonly id: number };

export interface IdempotencyStoreOptions {
  instanceId: string;
  /** Keys are honoured this long (24 h). */
  retentionMs?: number;
  /**
   * A claim with no outcome after this long is taken over: its instance died, or gave up on it without
   * releasing it (the database was away). Default 30 s: far past any inquiry's budget.
   */
  staleAfterMs?: number;
  guard?: <T>(work: () => Promise<T>) => Promise<T>;
}

const CLAIM = `
WITH new AS (
  INSERT INTO inquiry_key (channel, requester, idem_key, request_digest, instance_id) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (channel, requester, idem_key) DO NOTHING
  RETURNING id
)
SELECT id, true AS created, NULL::bytea AS digest, NULL::jsonb AS body, 0::float8 AS age_ms FROM new
UNION ALL
SELECT k.id, false, k.request_digest, a.body, extract(epoch FROM now() - k.created_at) * 1000
  FROM inquiry_key k LEFT JOIN inquiry_answer a ON a.inquiry_key_id = k.id
 WHERE k.channel = $1 AND k.requester = $2 AND k.idem_key = $3 AND NOT EXISTS (SELECT 1 FROM new)`;

// Only a key with no outcome, or one past retention: a decided key is never taken from its owner.
const EXPIRE = `
WITH doomed AS (
  SELECT id FROM inquiry_key k
   WHERE id = $1 AND (created_at < now() - make_interval(secs => $2 / 1000.0)
     OR (created_at < now() - make_interval(secs => $3 / 1000.0) AND NOT EXISTS (SELECT 1 FROM inquiry_answer WHERE inquiry_key_id = k.id)))
), answers AS (DELETE FROM inquiry_answer WHERE inquiry_key_id IN (SELECT id FROM doomed))
DELETE FROM inquiry_key WHERE id IN (SELECT id FROM doomed)`;

const RELEASE = 'DELETE FROM inquiry_key k WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM inquiry_answer WHERE inquiry_key_id = k.id)';

const PRUNE = `
WITH doomed AS (SELECT id FROM inquiry_key WHERE channel = ANY($3) AND created_at < $1 LIMIT $2),
answers AS (DELETE FROM inquiry_answer WHERE inquiry_key_id IN (SELECT id FROM doomed))
DELETE FROM inquiry_key WHERE id IN (SELECT id FROM doomed)`;

interface ClaimRow {
  id: string | bigint;
  created: boolean;
  digest: Buffer | null;
  body: StoredOutcome | null;
  age_ms: number;
}

export class IdempotencyStore {
  private readonly retentionMs: number;
  private readonly staleAfterMs: number;
  private readonly guard: <T>(work: () => Promise<T>) => Promise<T>;

  constructor(private readonly pool: Pool, private readonly options: IdempotencyStoreOptions) {
    this.retentionMs = options.retentionMs ?? 86_400_000;
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
    this.guard = options.guard ?? ((work) => work());
  }

  /** Rejects when the database cannot be reached (the channel answers "try again"). */
  async claim(channel: string, requester: string, key: string, digest: Buffer): Promise<KeyClaim> {
    // A conflict with a claim not yet committed is invisible to this statement's snapshot: try again.
    for (let attempt = 0; attempt < 4; attempt++) {
      const { rows } = await this.guard(() => this.pool.query<ClaimRow>(CLAIM, [channel, requester, key, digest, this.options.instanceId]));
      const row = rows[0];
      if (!row) continue;
      const id = Number(row.id);
      if (row.created) return { kind: 'new', id };
      const expired = row.age_ms > this.retentionMs || (row.body === null && row.age_ms > this.staleAfterMs);
      if (expired) {
        await this.guard(() => this.pool.query(EXPIRE, [id, this.retentionMs, this.staleAfterMs]));
        continue;
      }
      if (!row.digest?.equals(digest)) return { kind: 'reused', id };
      return row.body === null ? { kind: 'in-flight', id } : { kind: 'replay', id, outcome: row.body };
    }
    throw new Error('idempotency key: no stable claim after 4 attempts');
  }

  /** Gives a claim back when its inquiry came to nothing final (unavailable): a retry may run it. Best effort. */
  async release(id: number): Promise<void> {
    await this.pool.query(RELEASE, [id]);
  }

  /**
   * Deletes the keys of `channels` past retention, a chunk at a time; returns how many. By channel: the table
   * also holds the ATM's keys, which are kept longer (src/inquiry/claims/claim-store.ts).
   */
  async pruneCreatedBefore(channels: readonly string[], cutoff: Date, chunkSize = 10_000): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = (await this.pool.query(PRUNE, [cutoff.toISOString(), chunkSize, channels])).rowCount ?? 0;
      total += deleted;
      if (deleted < chunkSize) return total;
    }
  }
}
