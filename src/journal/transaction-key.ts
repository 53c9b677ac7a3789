import { canonicalAcquirerId } from '../config/acquirer-id.js';
import type { ParticipantLookup } from '../ledger/index.js';
import { parseOriginalDataElements } from '../iso8583/vocabulary/index.js';
import { JournalError } from './errors.js';

/** What ISO 8583 uses to recognise a repeat: fields 32, 11, 7 and 41 of the request. */
export interface TransactionKey {
  /** Field 32, acquiring institution ID. */
  acquirerId: string;
  /** Field 11, STAN. */
  stan: string;
  /** Field 7, transmission date and time, MMDDhhmmss as sent. */
  transmissionAt: string;
  /** Field 41, card acceptor terminal ID, padding included. */
  terminalId: string;
}

/**
 * The part of a response that a retransmission cannot rebuild from its own request: the echoed fields
 * (2, 3, 4, 7, 11, …) come from the retransmitted request, which is byte-identical by definition.
 */
export interface StoredResponse {
  /** Field 39. */
  responseCode: string;
  /** Field 54, additional amounts (the balances), when the response carries it. */
  additionalAmounts?: string | undefined;
  /** Field 48, additional data (KPJ number, name, as-of date), when the response carries it. */
  additionalData?: string | undefined;
}

export type ClaimResult =
  /**
   * First time this key is seen: process the request, then `recordResponse(id, …)`. `lookup`: the ledger's
   * answer for the instrument the claim named, read in the same statement.
   */
  | { kind: 'new'; id: number; lookup?: ParticipantLookup }
  /**
   * Same key, same content: answer with `response` again. `response` is undefined while the original is
   * still being processed (here or on another instance): `awaitResponse(id, …)` waits for it. When none
   * comes, the outcome is unknown (its instance died before its answer was durable): `reclaim(id, claimedBy)`.
   */
  | { kind: 'retransmission'; id: number; response: StoredResponse | undefined; claimedBy: string; claimAgeMs: number }
  /** Same key, different content: answer 94. `id` is the original's. */
  | { kind: 'duplicate'; id: number };

export type ReversalMark =
  | { found: false }
  /** `alreadyReversed`: an earlier advice (0420, or a 0421 repeat) marked it first; the mark is kept. */
  | { found: true; id: number; alreadyReversed: boolean };

/**
 * Field 32 is LLVAR ("99901") but field 90 carries the acquirer zero-padded to 11 digits ("00000099901"),
 * so keys are stored without leading zeros: both spellings name the same institution.
 */
export function normaliseKey(key: TransactionKey): TransactionKey {
  return {
    acquirerId: canonicalAcquirerId(key.acquirerId),
    stan: key.stan,
    transmissionAt: key.transmissionAt,
    terminalId: key.terminalId,
  };
}

/**
 * The key of the transaction a reversal advice (0420/0421) names: 11 and 7 from its field 90, the
 * acquirer from field 90 too unless the sender zeroed it (then the advice's own field 32), and field 41
 * from the advice itself, since field 90 does not carry the terminal and a reversal comes from the same one.
 */
export function originalKeyOf(advice: { field90: string; acquirerId: string; terminalId: string }): TransactionKey {
  const original = parseOriginalDataElements(advice.field90);
  if (!original) throw new JournalError('JOURNAL_BAD_ORIGINAL_DATA', 'field 90 must be 42 digits');
  const acquirerGiven = /[1-9]/.test(original.acquirerId);
  return {
    acquirerId: acquirerGiven ? original.acquirerId : advice.acquirerId,
    stan: original.stan,
    transmissionAt: original.transmissionAt,
    terminalId: advice.terminalId,
  };
}
