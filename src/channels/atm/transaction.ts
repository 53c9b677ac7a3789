import type { IsoMessage, Packager } from '../../iso8583/index.js';
import type { JournalKind, RequestDigest } from '../../journal/index.js';
import type { ClaimResult, ReversalMark, StoredResponse, TransactionKey } from './transaction-key.js';
import type { MacKey, MacVerdict } from '../../security/index.js';
import type { KeyRing } from '../../security/keys/index.js';
import type { InstrumentRef, ParticipantLookup } from '../../ledger/index.js';
import type { Logger } from '../../observability/logger.js';
import type { ResponseCode } from '../../iso8583/vocabulary/index.js';
import type { Session } from './session.js';

/** The ledger as the pipeline needs it (its reads ride in the claim); LedgerReader implements it. */
export interface LedgerPort {
  /** A card (2) or an account (102) as the ledger keys it (an HMAC, never the number). */
  card(pan: string): InstrumentRef;
  account(account: string): InstrumentRef;
  /** The circuit breaker's state: while open the database is known to be away. */
  readonly state: 'closed' | 'open' | 'half-open';
}

/** Duplicate detection across instances, keyed on (32, 11, 7, 41). */
export interface TransactionKeyPort {
  /** With `read`, a new claim brings the ledger's answer for that instrument too (one round trip for both). */
  claim(key: TransactionKey, requestDigest: RequestDigest, mti: string, read?: InstrumentRef): Promise<ClaimResult>;
  /** The answer to a claim won here is durable: wakes its waiting retransmissions. */
  recordResponse(id: number, response: StoredResponse): void;
  /** A claim won here will not be answered from here (no durable answer): its waiters are told so. */
  abandon(id: number): void;
  awaitResponse(id: number, timeoutMs: number): Promise<StoredResponse | undefined>;
  /** Takes over a claim whose outcome is unknown (see ClaimStore.reclaim). */
  reclaim(id: number, claimedBy: string, read?: InstrumentRef): Promise<{ won: false } | { won: true; lookup?: ParticipantLookup }>;
  markReversed(originalKey: TransactionKey, reversalRef: string): Promise<ReversalMark>;
}

export type { InstrumentRef, ParticipantLookup, StoredResponse, TransactionKey };

export interface SwitchServices {
  readonly ledger: LedgerPort;
  readonly transactionKeys: TransactionKeyPort;
  /** The data keys: request digests are HMACs under them (never a plain hash: a request holds a PAN). */
  readonly keys: KeyRing;
  readonly ledgerTimeoutMs: number;
  readonly log: Logger;
}

/**
 * The context a request travels through the pipeline with (jPOS's Context): each step reads what the
 * earlier ones left (the claim, the ledger's read, the kind of row to journal) and returns its verdict;
 * only the runner (pipeline.ts) writes the decision.
 */
export class Transaction {
  request: IsoMessage | undefined;
  /** The decision: set by the runner from the first step that refuses or answers, never by a step. */
  responseCode: ResponseCode | undefined;
  kind: JournalKind = 'request';
  /** The ledger's answer: read with the duplicate-detection claim (see detectDuplicate). */
  lookup: ParticipantLookup | undefined;
  keyId: number | undefined;
  /** Set for a retransmission: the original's answer, sent again. */
  replay: StoredResponse | undefined;
  /** The access policy's verdict in the core's terms, for the journal: 'answered' or the refusal. */
  outcome: string | undefined;
  /** Why the transaction was refused or failed, for the log line (never card data). */
  note: string | undefined;
  /**
   * The request's MAC, verified once on arrival for a partner that uses one (undefined: no MAC in use, or a
   * frame that did not decode). Only a checked request's answer is signed: signing answers to requests
   * nobody verified (a 30 for a frame that does not decode) would MAC bytes of the sender's choosing, a
   * signing oracle.
   */
  mac: { readonly verdict: MacVerdict; readonly key: MacKey | undefined } | undefined;

  constructor(
    readonly session: Session,
    readonly packager: Packager,
    readonly raw: Buffer,
    readonly receivedAt = new Date(),
    readonly startedNs = process.hrtime.bigint(),
  ) {}

  /** Whether the request's MAC was checked (good or bad): then its answer is signed. */
  get macChecked(): boolean {
    return this.mac !== undefined;
  }

  /** The MAC key that verified the request: its answer is signed with it (undefined: the current key). */
  get macKey(): MacKey | undefined {
    return this.mac?.key;
  }

  /** Records a decision (the runner's, or a failure's: 91, 96): the response code and why. */
  decide(code: ResponseCode, note?: string): void {
    this.responseCode = code;
    if (note !== undefined) this.note = note;
  }
}

/** A transaction whose frame decoded (wholly, or in part for a 30): what every step sees. */
export type DecodedTransaction = Transaction & { request: IsoMessage };

/**
 * A step's verdict (jPOS's TransactionParticipant and AbortParticipant): nothing to let the request go on;
 * a refusal with its code; or the answer (00 from what the context holds, or a stored answer sent again).
 * The first step that refuses or answers ends the list; the steps after the decision always run.
 */
export type Verdict =
  | undefined
  | { readonly refuse: ResponseCode; readonly note?: string }
  | { readonly answer: 'approved' }
  | { readonly answer: 'replay'; readonly stored: StoredResponse };

/** Lets the request go on to the next step. */
export const CONTINUE: Verdict = undefined;

/** A refusal with `code`; `note` says why in the log line (never card data). */
export function refuse(code: ResponseCode, note?: string): Verdict {
  return note === undefined ? { refuse: code } : { refuse: code, note };
}

/** A participant: one small step of the pipeline. */
export type Step = (tx: DecodedTransaction, services: SwitchServices) => Verdict | Promise<Verdict>;
