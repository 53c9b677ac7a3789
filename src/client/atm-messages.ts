import { IsoMessage } from '../iso8583/index.js';

/** Field 7 (MMDDhhmmss, UTC as ISO 8583 asks), 12 (hhmmss local) and 13 (MMDD local). */
function timestamps(now = new Date()): { f7: string; f12: string; f13: string } {
  const p = (n: number): string => String(n).padStart(2, '0');
  return {
    f7: p(now.getUTCMonth() + 1) + p(now.getUTCDate()) + p(now.getUTCHours()) + p(now.getUTCMinutes()) + p(now.getUTCSeconds()),
    f12: p(now.getHours()) + p(now.getMinutes()) + p(now.getSeconds()),
    f13: p(now.getMonth() + 1) + p(now.getDate()),
  };
}

export function networkRequest(stan: string, code: '001' | '002' | '301'): IsoMessage {
  return new IsoMessage('0800', { 7: timestamps().f7, 11: stan, 70: code });
}

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
  const { f7, f12, f13 } = timestamps();
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
