import { ResponseCode } from '../../../iso8583/vocabulary/index.js';
import { CONTINUE, refuse, type Step } from '../transaction.js';

/**
 * For partners that use a MAC, the first check of every request: a MAC missing or wrong answers 63 and
 * nothing else is processed (an 0800 with a bad MAC does not sign on). The MAC was verified once, on
 * arrival (pipeline.ts: the bytes as received, under the current key and, during a key change, the
 * previous one); the answer is signed with the key that verified the request.
 */
export const verifyMac: Step = (tx) => {
  if (tx.mac !== undefined && tx.mac.verdict !== 'ok') return refuse(ResponseCode.MacFailure, `MAC ${tx.mac.verdict}`);
  return CONTINUE;
};
