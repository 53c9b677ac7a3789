import { Field, ResponseCode } from '../../iso8583/vocabulary/index.js';
import type { InstrumentRef, Step, SwitchServices, Transaction } from '../transaction.js';

const ACTIVE = 'ACTIVE';

/** The card (2) or, failing that, the account (102) the inquiry is about, as the ledger keys it. */
export function instrumentOf(tx: Transaction, services: SwitchServices): InstrumentRef {
  const pan = tx.request!.get(Field.Pan);
  return pan !== undefined ? services.ledger.card(pan) : services.ledger.account(tx.request!.get(Field.Account)!);
}

/**
 * Maps the instrument to a participant and its JHT balance: 14 when nothing is linked, 57 when the link or
 * the membership is not active. The read normally came with the duplicate-detection claim; otherwise it is
 * made here, behind the circuit breaker (91 when the ledger is unavailable or late).
 */
export const lookupParticipant: Step = async (tx, services) => {
  const lookup = tx.lookup ?? (await services.ledger.lookup(instrumentOf(tx, services)));
  tx.lookup = lookup;
  if (lookup.kind === 'not-linked') return tx.refuse(ResponseCode.NoParticipantLinked, 'no participant linked');
  if (lookup.linkStatus !== ACTIVE) return tx.refuse(ResponseCode.ParticipantBlocked, `link is ${lookup.linkStatus}`);
  if (lookup.membershipStatus !== ACTIVE) return tx.refuse(ResponseCode.ParticipantBlocked, `membership is ${lookup.membershipStatus}`);
  tx.responseCode = ResponseCode.Approved;
};
