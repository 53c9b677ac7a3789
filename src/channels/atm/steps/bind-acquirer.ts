import { Field, ResponseCode } from '../../../iso8583/vocabulary/index.js';
import { CONTINUE, refuse, type Step } from '../transaction.js';

/** 58 unless the session has signed on and field 32 belongs to the partner bound to this connection. */
export const bindAcquirer: Step = (tx) => {
  const acquirer = tx.request.get(Field.AcquirerId);
  if (acquirer === undefined) return refuse(ResponseCode.FormatError, 'field 32 missing');
  if (!tx.session.ownsAcquirer(acquirer)) {
    return refuse(ResponseCode.AcquirerNotPermitted, `acquirer ${acquirer} is not partner ${tx.session.partner.id}'s`);
  }
  if (!tx.session.mayTransact) return refuse(ResponseCode.AcquirerNotPermitted, 'session has not signed on');
  return CONTINUE;
};

/**
 * 58 for a card outside the partner's BINs, when it has a list: decided before the ledger is read, so the
 * answer says nothing about whether the card is linked.
 */
export const checkBin: Step = (tx) => {
  const pan = tx.request.get(Field.Pan);
  if (pan !== undefined && !tx.session.issuesCard(pan)) {
    return refuse(ResponseCode.AcquirerNotPermitted, `card outside partner ${tx.session.partner.id}'s BINs`);
  }
  return CONTINUE;
};
