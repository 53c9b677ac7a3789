import { ResponseCode } from '../../../iso8583/vocabulary/index.js';
import { CONTINUE, refuse, type Step } from '../transaction.js';

/**
 * 97 when the partner is over its configured requests in flight or requests per second: refused at
 * once, before any database work, so a flood from one bank cannot queue up inside the switch.
 */
export const admitWithinLimits: Step = (tx) => {
  const load = tx.session.load;
  if (load.overInFlight) return refuse(ResponseCode.PartnerLimitExceeded, 'partner over its in-flight limit');
  if (!load.takeToken()) return refuse(ResponseCode.PartnerLimitExceeded, 'partner over its requests-per-second limit');
  return CONTINUE;
};
