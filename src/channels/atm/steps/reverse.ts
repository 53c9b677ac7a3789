import { originalKeyOf } from '../transaction-key.js';
import { Field, ResponseCode } from '../../../iso8583/vocabulary/index.js';
import { refuse, type Step } from '../transaction.js';

/**
 * 0420/0421: the reversal advice names the original in field 90 (MTI, STAN, transmission date-time,
 * acquirer). The original is marked reversed in the journal; the advice is always acknowledged with 00,
 * since an advice is a notification that must not be refused for business reasons.
 */
export const reverse: Step = async (tx, services) => {
  tx.kind = 'reversal';
  const request = tx.request;
  const original = request.get(Field.OriginalData);
  if (original === undefined || !request.has(Field.Stan) || !request.has(Field.TerminalId) || !request.has(Field.TransmissionDateTime)) {
    return refuse(ResponseCode.FormatError, 'a reversal needs fields 7, 11, 41 and 90');
  }
  const originalKey = originalKeyOf({
    field90: original,
    acquirerId: request.get(Field.AcquirerId)!,
    terminalId: request.get(Field.TerminalId)!,
  });
  // Field 90 may name the original's acquirer: a partner can only reverse its own transactions.
  if (!tx.session.ownsAcquirer(originalKey.acquirerId)) {
    return refuse(ResponseCode.AcquirerNotPermitted, 'field 90 names another partner\'s acquirer');
  }
  const reversalRef = `${request.mti}:${request.get(Field.Stan)}:${request.get(Field.TransmissionDateTime)}`;
  const marked = await services.transactionKeys.markReversed(originalKey, reversalRef);
  if (marked.found) tx.keyId = marked.id;
  else tx.note = 'original not found';
  return { answer: 'approved' };
};
