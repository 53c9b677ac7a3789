import { Field, ResponseCode } from '../../../iso8583/vocabulary/index.js';
import { refuse, type DecodedTransaction, type InstrumentRef, type Step, type SwitchServices } from '../transaction.js';

const ACTIVE = 'ACTIVE';

/** The card (2) or, failing that, the account (102) the inquiry is about, as the ledger keys it. */
export function instrumentOf(tx: DecodedTransaction, services: SwitchServices): InstrumentRef {
  const pan = tx.request.get(Field.Pan);
  return pan !== undefined ? services.ledger.card(pan) : services.ledger.account(tx.request.get(Field.Account)!);
}

/**
 * Maps the instrument to a participant and its JHT balance: 14 when nothing is linked, 57 when the link or
 * the membership is not active. The read came with the duplicate-detection claim (detectDuplicate), in the
 * same statement behind the circuit breaker.
 */
export const lookupParticipant: Step = (tx) => {
  const lookup = tx.lookup;
  // detectDuplicate lets a request through only with a claim won here, and every claim carries the read.
  if (lookup === undefined) throw new Error('no ledger read came with the claim');
  if (lookup.kind === 'not-linked') return refuse(ResponseCode.NoParticipantLinked, 'no participant linked');
  if (lookup.linkStatus !== ACTIVE) return refuse(ResponseCode.ParticipantBlocked, `link is ${lookup.linkStatus}`);
  if (lookup.membershipStatus !== ACTIVE) return refuse(ResponseCode.ParticipantBlocked, `membership is ${lookup.membershipStatus}`);
  return { answer: 'approved' };
};
