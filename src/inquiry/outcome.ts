/**
 * What an inquiry comes to, as a value: every channel renders these (an ISO response code, an HTTP problem
 * document), and none of them is ever thrown.
 */

export interface BalanceAnswer {
  readonly participantId: bigint;
  readonly kpj: string;
  readonly name: string;
  readonly balanceSen: bigint;
  /** YYYY-MM-DD. */
  readonly asOf: string;
}

export type Refusal =
  /** The credential does not allow this kind of inquiry (its scope, or a kiosk token not bound to this device). */
  | 'insufficient-scope'
  /** One neutral answer for: no such participant, not the requester's, a NIK that does not match. */
  | 'not-found'
  /** Found, the requester may see it, but the membership is blocked or closed. */
  | 'membership-blocked'
  /** The card or account the inquiry came with (the ATM) is linked, but the link is blocked. */
  | 'instrument-blocked'
  /** The request misses what its access rule needs (a staff reason, a kiosk's NIK). */
  | 'incomplete'
  | 'rate-limited'
  /** The ledger's breaker is open, it missed the time budget, or the journal could not be written. */
  | 'unavailable'
  /** The same idempotency key is being processed right now. */
  | 'in-flight'
  /** The idempotency key was used before for a different request. */
  | 'key-reused';

export type InquiryOutcome =
  | { readonly kind: 'answered'; readonly answer: BalanceAnswer; readonly reference: string; readonly replayed: boolean }
  | {
    readonly kind: 'refused';
    readonly refusal: Refusal;
    readonly reference: string;
    readonly replayed: boolean;
    /** For rate-limited and unavailable: when trying again may succeed. */
    readonly retryAfterSeconds?: number;
    /** What is missing or wrong, in words safe to show (no personal data). */
    readonly detail?: string;
    /** Set once the ledger was read: the participant's internal id, for the journal. */
    readonly participantId?: bigint;
  };

export type RefusedOutcome = Extract<InquiryOutcome, { kind: 'refused' }>;

/** Outcomes a repeat with the same idempotency key gets again: the ones the ledger decided. */
export function isFinal(outcome: InquiryOutcome): boolean {
  return outcome.kind === 'answered' || outcome.refusal === 'not-found' || outcome.refusal === 'membership-blocked';
}

/** The stored form (inquiry_answer.body): bigints as strings, since JSON has none. */
export type StoredOutcome = {
  kind: 'answered' | 'refused';
  refusal?: Refusal;
  reference: string;
  answer?: { participantId: string; kpj: string; name: string; balanceSen: string; asOf: string };
};

export function storeOutcome(outcome: InquiryOutcome): StoredOutcome {
  if (outcome.kind === 'refused') return { kind: 'refused', refusal: outcome.refusal, reference: outcome.reference };
  const { answer } = outcome;
  return {
    kind: 'answered',
    reference: outcome.reference,
    answer: { participantId: answer.participantId.toString(), kpj: answer.kpj, name: answer.name, balanceSen: answer.balanceSen.toString(), asOf: answer.asOf },
  };
}

export function replayOutcome(stored: StoredOutcome): InquiryOutcome {
  if (stored.kind === 'answered' && stored.answer) {
    const a = stored.answer;
    return {
      kind: 'answered', reference: stored.reference, replayed: true,
      answer: { participantId: BigInt(a.participantId), kpj: a.kpj, name: a.name, balanceSen: BigInt(a.balanceSen), asOf: a.asOf },
    };
  }
  return { kind: 'refused', refusal: stored.refusal ?? 'not-found', reference: stored.reference, replayed: true };
}
