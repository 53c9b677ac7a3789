import { Field, ResponseCode } from '../iso-codes.js';
import type { Step } from '../transaction.js';

const ACTIVE = 'ACTIVE';

/**
 * Maps the card (2) or, failing that, the account (102) to a participant and reads the JHT balance in
 * the same ledger round trip, behind the circuit breaker: 91 when the ledger is unavailable or late,
 * 14 when nothing is linked, 57 when the link or the membership is not active.
 */
export const lookupParticipant: Step = async (tx, services) => {
  const request = tx.request!;
  const pan = request.get(Field.Pan);
  const lookup = pan !== undefined
    ? await services.ledger.lookupByCard(pan)
    : await services.ledger.lookupByAccount(request.get(Field.Account)!);
  tx.lookup = lookup;
  if (lookup.kind === 'not-linked') return tx.refuse(ResponseCode.NoParticipantLinked, 'no participant linked');
  if (lookup.linkStatus !== ACTIVE) return tx.refuse(ResponseCode.ParticipantBlocked, `link is ${lookup.linkStatus}`);
  if (lookup.membershipStatus !== ACTIVE) return tx.refuse(ResponseCode.ParticipantBlocked, `membership is ${lookup.membershipStatus}`);
  tx.responseCode = ResponseCode.Approved;
};
