import type { ParticipantLookup } from '../../ledger/index.js';

/**
 * An idempotency key in a channel's own terms (inquiry_key): unique per (channel, requester, key). The ATM's
 * (32, 11, 7, 41) is one (src/channels/atm/transaction-key.ts); a REST client's `Idempotency-Key` another.
 */
export interface InquiryKey {
  readonly channel: string;
  /** Whose key it is: two requesters' keys never collide. */
  readonly requester: string;
  readonly key: string;
}

/**
 * What a claimed key keeps for its repeats (inquiry_answer): the outcome in the channel's terms (for the ATM
 * field 39) and what the answer adds that a repeat cannot rebuild from itself (for the ATM fields 54, 48).
 */
export interface StoredAnswer {
  readonly outcome: string;
  readonly body: Readonly<Record<string, string | null>>;
}

export type ClaimOutcome =
  /**
   * First time this key is seen: process the request, then `answered(id, …)`. `lookup`: the ledger's
   * answer for the instrument the claim named, read in the same statement.
   */
  | { kind: 'new'; id: number; lookup?: ParticipantLookup }
  /**
   * Same key, same content: give `answer` again. `answer` is undefined while the original is still being
   * processed (here or on another instance): `awaitAnswer(id, …)` waits for it. When none comes, the
   * outcome is unknown (its instance died before its answer was durable): `reclaim(id, claimedBy)`.
   */
  | { kind: 'retransmission'; id: number; answer: StoredAnswer | undefined; claimedBy: string; claimAgeMs: number }
  /** Same key, different content. `id` is the original's. */
  | { kind: 'duplicate'; id: number };

export type ReversalMark =
  | { found: false }
  /** `alreadyReversed`: an earlier advice (0420, or a 0421 repeat) marked it first; the mark is kept. */
  | { found: true; id: number; alreadyReversed: boolean };
