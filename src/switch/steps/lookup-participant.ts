import { Field, ResponseCode } from '../iso-codes.js';
import type { ParticipantLookup, Step, SwitchServices, Transaction } from '../transaction.js';

const ACTIVE = 'ACTIVE';

/**
 * Maps the card (2) or, failing that, the account (102) to a participant and reads the JHT balance in
 * the same ledger round trip, behind the circuit breaker: 91 when the ledger is unavailable or late,
 * 14 when nothing is linked, 57 when the link or the membership is not active.
 */
function readLedger(tx: Transaction, services: SwitchServices): Promise<ParticipantLookup> {
  const pan = tx.request!.get(Field.Pan);
  return pan !== undefined ? services.ledger.lookupByCard(pan) : services.ledger.lookupByAccount(tx.request!.get(Field.Account)!);
}

/**
 * Starts the ledger read before the duplicate check so the two database round trips overlap. Its result
 * is used only if the request turns out to be new; a failure surfaces (as 91) only then.
 */
export const startLookup: Step = (tx, services) => {
  const pending = readLedger(tx, services);
  pending.catch(() => undefined);
  tx.pendingLookup = pending;
};

export const lookupParticipant: Step = async (tx, services) => {
  const lookup = await (tx.pendingLookup ?? readLedger(tx, services));
  tx.lookup = lookup;
  if (lookup.kind === 'not-linked') return tx.refuse(ResponseCode.NoParticipantLinked, 'no participant linked');
  if (lookup.linkStatus !== ACTIVE) return tx.refuse(ResponseCode.ParticipantBlocked, `link is ${lookup.linkStatus}`);
  if (lookup.membershipStatus !== ACTIVE) return tx.refuse(ResponseCode.ParticipantBlocked, `membership is ${lookup.membershipStatus}`);
  tx.responseCode = ResponseCode.Approved;
};
