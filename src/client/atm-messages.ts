import { IsoMessage } from '../iso8583/index.js';
import { messageTimestamps, networkRequest } from '../iso8583/vocabulary/index.js';

export { networkRequest };

export interface InquiryParams {
  stan: string;
  acquirerId: string;
  terminalId: string;
  pan?: string | undefined;
  account?: string | undefined;
  processingCode?: string;
}

/** A JHT balance inquiry as an ATM host sends it (CONTRACT "Balance inquiry request fields"). */
export function balanceInquiry(params: InquiryParams): IsoMessage {
  const { f7, f12, f13 } = messageTimestamps();
  const message = new IsoMessage('0200', {
    3: params.processingCode ?? '310000',
    7: f7,
    11: params.stan,
    12: f12,
    13: f13,
    22: '051',
    32: params.acquirerId,
    37: (f13 + f12).slice(0, 6) + params.stan,
    41: params.terminalId.padEnd(8, ' '),
    49: '360',
  });
  if (params.pan !== undefined) message.set(2, params.pan);
  if (params.account !== undefined) message.set(102, params.account);
  return message;
}
