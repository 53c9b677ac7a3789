import { BITMAP_FIELD, Iso8583DecodeError, MTI_FIELD, type IsoMessage } from '../../iso8583/index.js';
import { LedgerUnavailableError } from '../../ledger/errors.js';
import { Mti, ResponseCode, expectsResponse } from '../../iso8583/vocabulary/index.js';
import { admitWithinLimits } from './steps/admit-within-limits.js';
import { bindAcquirer, checkBin } from './steps/bind-acquirer.js';
import { detectDuplicate } from './steps/detect-duplicate.js';
import { lookupParticipant } from './steps/lookup-participant.js';
import { networkManagement } from './steps/network-management.js';
import { reverse } from './steps/reverse.js';
import { validateInquiry } from './steps/validate-inquiry.js';
import { verifyMac } from './steps/verify-mac.js';
import { refuse, type DecodedTransaction, type Step, type SwitchServices, type Transaction } from './transaction.js';

/** The participants of each kind of request, in order (jPOS TransactionManager style). */
const INQUIRY: readonly Step[] = [
  verifyMac, admitWithinLimits, validateInquiry, bindAcquirer, checkBin, detectDuplicate, lookupParticipant,
];
const REVERSAL: readonly Step[] = [verifyMac, admitWithinLimits, bindAcquirer, reverse];
const NETWORK: readonly Step[] = [verifyMac, networkManagement];
/** An MTI the switch does not handle: 12, but only once the MAC is checked (the answer is signed). */
const UNSUPPORTED: readonly Step[] = [
  verifyMac, (tx) => refuse(ResponseCode.UnsupportedTransaction, `MTI ${tx.request.mti} is not supported`),
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

/** What the pipeline decided: an answer to give (after-decision.ts), or none (garbage, or a message that expects no answer). */
export type Outcome =
  | { kind: 'decided'; tx: DecodedTransaction }
  | { kind: 'garbage'; error: Iso8583DecodeError }
  | { kind: 'ignore'; tx: DecodedTransaction; reason: string };

/**
 * Decode (30): a message whose MTI or bitmap cannot be read gets no answer at all (CONTRACT). Any other
 * decode failure is answered 30 with what was decoded; its MAC cannot be checked, so that answer is unsigned.
 */
function decode(tx: Transaction): { decoded: DecodedTransaction } | { garbage: Iso8583DecodeError } {
  let request: IsoMessage;
  try {
    request = tx.packager.unpack(tx.raw);
  } catch (error) {
    if (!(error instanceof Iso8583DecodeError)) throw error;
    if (error.field === MTI_FIELD || error.field === BITMAP_FIELD && error.code !== 'ISO_TRAILING_BYTES') {
      return { garbage: error };
    }
    tx.request = error.partial;
    tx.kind = 'format-error';
    tx.decide(ResponseCode.FormatError, `${error.code} ${error.message}`);
    return { decoded: tx as DecodedTransaction };
  }
  tx.request = request;
  return { decoded: tx as DecodedTransaction };
}

/** The MAC of a message that decoded, verified once, for the steps (verifyMac) and for the dial-out's answers. */
function verifyOnArrival(tx: DecodedTransaction): void {
  const keys = tx.session.macKeys;
  if (!keys || tx.kind === 'format-error') return;
  const { verdict, key } = keys.verify(tx.raw, tx.request, tx.packager);
  tx.mac = { verdict, key };
}

/** Runs the steps until the first that refuses or answers; its verdict is the decision. */
async function runSteps(steps: readonly Step[], tx: DecodedTransaction, services: SwitchServices): Promise<void> {
  for (const step of steps) {
    const pending = step(tx, services);
    const verdict = pending instanceof Promise ? await pending : pending;
    if (verdict === undefined) continue;
    if ('refuse' in verdict) tx.decide(verdict.refuse, verdict.note);
    else if (verdict.answer === 'replay') {
      tx.replay = verdict.stored;
      tx.decide(verdict.stored.responseCode as ResponseCode);
    } else tx.decide(ResponseCode.Approved);
    return;
  }
}

/** Runs one request through the pipeline up to its decision. Once decoded, never throws: anything unexpected becomes 96. */
export async function processRequest(raw: Transaction, services: SwitchServices): Promise<Outcome> {
  const decoded = decode(raw);
  if ('garbage' in decoded) return { kind: 'garbage', error: decoded.garbage };
  const tx = decoded.decoded;
  const request = tx.request;
  if (!expectsResponse(request.mti)) {
    verifyOnArrival(tx);
    return { kind: 'ignore', tx, reason: `${request.mti} is a response; nothing to answer` };
  }
  try {
    if (tx.responseCode === undefined) {
      verifyOnArrival(tx);
      await runSteps(stepsFor(request.mti), tx, services);
    }
  } catch (error) {
    if (error instanceof LedgerUnavailableError) tx.decide(ResponseCode.LedgerUnavailable, `ledger ${error.reason}`);
    else {
      tx.decide(ResponseCode.SystemError, 'internal failure');
      services.log.error({ err: error, session: tx.session.id }, 'unexpected failure in the pipeline');
    }
  }
  tx.responseCode ??= ResponseCode.SystemError;
  return { kind: 'decided', tx };
}
