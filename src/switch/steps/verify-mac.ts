import { ResponseCode } from '../../iso8583/vocabulary/index.js';
import type { Step } from '../transaction.js';

/**
 * For partners that use a MAC, the first check of every message: a MAC missing or wrong answers 63 and
 * nothing else is processed (an 0800 with a bad MAC does not sign on). The bytes are checked as received,
 * under the current key and, during a key change, the previous one; the answer is signed with the key that
 * verified the request.
 */
export const verifyMac: Step = (tx) => {
  const keys = tx.session.macKeys;
  if (!keys) return;
  const { verdict, key } = keys.verify(tx.raw, tx.request!, tx.packager);
  tx.macChecked = true;
  tx.macKey = key;
  if (verdict !== 'ok') tx.refuse(ResponseCode.MacFailure, `MAC ${verdict}`);
};
