import { Field, NetworkCode, ResponseCode } from '../../../iso8583/vocabulary/index.js';
import { refuse, type Step } from '../transaction.js';

/** 0800: sign-on, sign-off and echo test change or check the session's state. */
export const networkManagement: Step = (tx) => {
  tx.kind = 'network';
  const request = tx.request;
  if (!request.has(Field.TransmissionDateTime) || !request.has(Field.Stan) || !request.has(Field.NetworkCode)) {
    return refuse(ResponseCode.FormatError, 'an 0800 needs fields 7, 11 and 70');
  }
  switch (request.get(Field.NetworkCode)) {
    case NetworkCode.SignOn:
      tx.session.setSignedOn(true);
      break;
    case NetworkCode.SignOff:
      tx.session.setSignedOn(false);
      break;
    case NetworkCode.EchoTest:
      break;
    default:
      return refuse(ResponseCode.UnsupportedTransaction, 'unknown network management code');
  }
  return { answer: 'approved' };
};
