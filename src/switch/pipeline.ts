import { BITMAP_FIELD, Iso8583DecodeError, MTI_FIELD, type IsoMessage } from '../iso8583/index.js';
import { LedgerUnavailableError } from '../ledger/errors.js';
import { Mti, ResponseCode, expectsResponse } from '../iso8583/vocabulary/index.js';
import { buildResponse, replayableOf } from './respond.js';
import { admitWithinLimits } from './steps/admit-within-limits.js';
import { bindAcquirer, checkBin } from './steps/bind-acquirer.js';
import { detectDuplicate } from './steps/detect-duplicate.js';
import { lookupParticipant } from './steps/lookup-participant.js';
import { networkManagement } from './steps/network-management.js';
import { reverse } from './steps/reverse.js';
import { validateInquiry } from './steps/validate-inquiry.js';
import { verifyMac } from './steps/verify-mac.js';
import type { Step, SwitchServices, Transaction } from './transaction.js';
import type { AnswerToStore } from '../journal/index.js';

/** The participants of each kind of request, in order (jPOS TransactionManager style). */
const INQUIRY: readonly Step[] = [
  verifyMac, admitWithinLimits, validateInquiry, bindAcquirer, checkBin, detectDuplicate, lookupParticipant,
];
const REVERSAL: readonly Step[] = [verifyMac, admitWithinLimits, bindAcquirer, reverse];
const NETWORK: readonly Step[] = [verifyMac, networkManagement];
/** An MTI the switch does not handle: 12, but only once the MAC is checked (the answer is signed). */
const UNSUPPORTED: readonly Step[] = [
  verifyMac, (tx) => tx.refuse(ResponseCode.UnsupportedTransaction, `MTI ${tx.request!.mti} is not supported`),
];

function stepsFor(mti: string): readonly Step[] {
  switch (mti) {
    case Mti.FinancialRequest:
    case Mti.FinancialRepeat:
    case Mti.AuthorizationRequest:
    case Mti.AuthorizationRepeat:
      return INQUIRY;
    case Mti.ReversalAdvice:
    case Mti.ReversalAdviceRepeat:
      return REVERSAL;
    case Mti.NetworkRequest:
      return NETWORK;
    default:
      return UNSUPPORTED;
  }
}

/** What the pipeline decided: an answer to send, or none (garbage, or a message that expects no answer). */
export type Outcome =
  | { kind: 'respond'; response: IsoMessage }
  | { kind: 'garbage'; error: Iso8583DecodeError }
  | { kind: 'ignore'; reason: string };

/**
 * Decode (30): a message whose MTI or bitmap cannot be read gets no answer at all (CONTRACT). Any other
 * decode failure is answered 30 with what was decoded; its MAC cannot be checked, so that answer is unsigned.
 */
function decode(tx: Transaction): Outcome | undefined {
  try {
    tx.request = tx.packager.unpack(tx.raw);
    return undefined;
  } catch (error) {
    if (!(error instanceof Iso8583DecodeError)) throw error;
    if (error.field === MTI_FIELD || error.field === BITMAP_FIELD && error.code !== 'ISO_TRAILING_BYTES') {
      return { kind: 'garbage', error };
    }
    tx.request = error.partial;
    tx.kind = 'format-error';
    tx.refuse(ResponseCode.FormatError, `${error.code} ${error.message}`);
    return undefined;
  }
}

async function runSteps(steps: readonly Step[], tx: Transaction, services: SwitchServices): Promise<void> {
  for (const step of steps) {
    const pending = step(tx, services);
    if (pending) await pending;
    if (tx.responseCode !== undefined) return;
  }
}

/** Runs one request through the pipeline. Never throws: anything unexpected becomes 96. */
export async function processRequest(tx: Transaction, services: SwitchServices): Promise<Outcome> {
  try {
    const rejected = decode(tx);
    if (rejected) return rejected;
    const request = tx.request!;
    if (!expectsResponse(request.mti)) return { kind: 'ignore', reason: `${request.mti} is a response; nothing to answer` };
    if (tx.responseCode === undefined) await runSteps(stepsFor(request.mti), tx, services);
  } catch (error) {
    if (error instanceof LedgerUnavailableError) tx.refuse(ResponseCode.LedgerUnavailable, `ledger ${error.reason}`);
    else {
      tx.refuse(ResponseCode.SystemError, 'internal failure');
      services.log.error({ err: error, session: tx.session.id }, 'unexpected failure in the pipeline');
    }
  }
  tx.responseCode ??= ResponseCode.SystemError;
  let response: IsoMessage;
  try {
    response = buildResponse(tx);
  } catch (error) {
    // Ledger data that cannot be put on the wire (e.g. a malformed KPJ) is an internal failure, not a crash.
    services.log.error({ err: error, session: tx.session.id }, 'cannot build the response');
    tx.lookup = undefined;
    tx.refuse(ResponseCode.SystemError, 'response could not be built');
    response = buildResponse(tx);
  }
  return { kind: 'respond', response };
}

/**
 * Answers that come from the inquiry path (a claimed key: 00, 14, 57, 94, replays, 96 after a claim; and
 * the reversal's 0430) are sent only once their journal row is durable. The others (91, 97, 58, 63, 30, 12,
 * 0810) were given without the database or before any claim, and cannot wait for it.
 */
export function mustBeDurable(tx: Transaction): boolean {
  if (tx.responseCode === ResponseCode.LedgerUnavailable) return false;
  return tx.txnKeyId !== undefined || tx.kind === 'reversal';
}

/** The transaction holds a claim this instance won (a new request, or an unknown outcome taken over). */
export function ownsClaim(tx: Transaction): tx is Transaction & { txnKeyId: number } {
  return tx.txnKeyId !== undefined && (tx.kind === 'request' || tx.kind === 'reprocessed');
}

/**
 * The answer a claimed key keeps for its retransmissions: the first one, of a request processed here. A 91
 * is not kept: its retransmission finds the outcome unknown and is processed anew.
 */
export function storedAnswerOf(tx: Transaction): AnswerToStore | undefined {
  if (!ownsClaim(tx) || tx.responseCode === ResponseCode.LedgerUnavailable) return undefined;
  return { txnKeyId: tx.txnKeyId, response: replayableOf(tx) };
}

/** The answer when the journal could not make the real one durable: 91, which needs no database. */
export function unavailableResponse(tx: Transaction): IsoMessage {
  tx.lookup = undefined;
  tx.replay = undefined;
  tx.refuse(ResponseCode.LedgerUnavailable, 'the answer could not be journaled durably');
  return buildResponse(tx);
}

