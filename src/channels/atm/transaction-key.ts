import { canonicalAcquirerId } from '../../config/acquirer-id.js';
import type { ClaimStore, InquiryKey, ReversalMark, StoredAnswer } from '../../inquiry/index.js';
import type { InstrumentRef, ParticipantLookup } from '../../ledger/index.js';
import { JournalError, type RequestDigest } from '../../journal/index.js';
import { parseOriginalDataElements } from '../../iso8583/vocabulary/index.js';

/**
 * The ATM's request keys in the core's key table (src/inquiry/claims/): ISO 8583 recognises a repeat by
 * fields 32, 11, 7 and 41, which become channel 'atm', requester "<32>/<41>", key "<11>/<7>" (migration 017).
 */
export const ATM_CHANNEL = 'atm';

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

export type { ReversalMark };

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

/** The key in the core's terms. The acquirer is digits only, so the first '/' splits the requester, whatever 41 holds. */
export function inquiryKeyOf(key: TransactionKey): InquiryKey {
  const normal = normaliseKey(key);
  return { channel: ATM_CHANNEL, requester: `${normal.acquirerId}/${normal.terminalId}`, key: `${normal.stan}/${normal.transmissionAt}` };
}

/** An ATM answer as the core keeps it: field 39 as the outcome, 54 and 48 in the body. */
export function storedAnswerOf(response: StoredResponse): StoredAnswer {
  return { outcome: response.responseCode, body: { 54: response.additionalAmounts ?? null, 48: response.additionalData ?? null } };
}

export function responseOf(answer: StoredAnswer): StoredResponse {
  return { responseCode: answer.outcome, additionalAmounts: answer.body['54'] ?? undefined, additionalData: answer.body['48'] ?? undefined };
}

/**
 * Duplicate detection for ISO 8583 requests: the core's claim store, spoken in fields. The claim (with the
 * ledger read in its statement), the stored answers and the reversal mark are the core's; this only names
 * keys and answers the ATM's way.
 */
export class AtmClaims {
  constructor(private readonly store: ClaimStore) {}

  /** With `read`, a new claim brings the ledger's answer for that instrument too (one round trip for both). */
  async claim(key: TransactionKey, requestDigest: RequestDigest, mti: string, read?: InstrumentRef): Promise<ClaimResult> {
    const claimed = await this.store.claim(inquiryKeyOf(key), requestDigest, mti, read);
    if (claimed.kind !== 'retransmission') return claimed;
    const { answer, ...rest } = claimed;
    return { ...rest, response: answer && responseOf(answer) };
  }

  /** The answer to a claim won here is durable: wakes its waiting retransmissions. */
  recordResponse(id: number, response: StoredResponse): void {
    this.store.answered(id, storedAnswerOf(response));
  }

  /** A claim won here will not be answered from here (no durable answer): its waiters are told so. */
  abandon(id: number): void {
    this.store.abandon(id);
  }

  async awaitResponse(id: number, timeoutMs: number): Promise<StoredResponse | undefined> {
    const answer = await this.store.awaitAnswer(id, timeoutMs);
    return answer && responseOf(answer);
  }

  /** Takes over a claim whose outcome is unknown (see ClaimStore.reclaim). */
  reclaim(id: number, claimedBy: string, read?: InstrumentRef): Promise<{ won: false } | { won: true; lookup?: ParticipantLookup }> {
    return this.store.reclaim(id, claimedBy, read);
  }

  markReversed(originalKey: TransactionKey, reversalRef: string): Promise<ReversalMark> {
    return this.store.markReversed(inquiryKeyOf(originalKey), reversalRef);
  }

  /** Deletes the ATM's keys created before `cutoff` (field 7 has no year: keep them days, not months). */
  pruneCreatedBefore(cutoff: Date, chunkSize?: number): Promise<number> {
    return this.store.pruneCreatedBefore(ATM_CHANNEL, cutoff, chunkSize);
  }

  /** Claims won here and neither answered nor abandoned (a metrics gauge). */
  get unansweredClaims(): number {
    return this.store.unansweredClaims;
  }

  close(): void {
    this.store.close();
  }
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
