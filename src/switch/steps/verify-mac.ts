import { verifyMessage } from '../../security/index.js';
import { ResponseCode } from '../../iso8583/vocabulary/index.js';
import type { Step } from '../transaction.js';

/**
 * For partners that use a MAC, the first check of every message: a MAC missing or wrong answers 63 and
 * nothing else is processed (an 0800 with a bad MAC does not sign on). The bytes are checked as received.
 */
export const verifyMac: Step = (tx) => {
  const key = tx.session.macKey;
  if (!key) return;
  const verdict = verifyMessage(tx.raw, tx.request!, tx.packager, key);
  tx.macChecked = true;
  if (verdict !== 'ok') tx.refuse(ResponseCode.MacFailure, `MAC ${verdict}`);
};
