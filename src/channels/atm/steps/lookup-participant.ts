import { checkInstrumentRead, type Refusal } from '../../../inquiry/index.js';
import { Field, ResponseCode } from '../../../iso8583/vocabulary/index.js';
import { refuse, type DecodedTransaction, type InstrumentRef, type Step, type SwitchServices } from '../transaction.js';

/** The ISO 8583 answer to each refusal the instrument rule can give (specs/INTERFACE.md, field 39). */
const CODE_OF_REFUSAL: Partial<Readonly<Record<Refusal, ResponseCode>>> = {
  'not-found': ResponseCode.NoParticipantLinked,
  'instrument-blocked': ResponseCode.ParticipantBlocked,
  'membership-blocked': ResponseCode.ParticipantBlocked,
};

/** The card (2) or, failing that, the account (102) the inquiry is about, as the ledger keys it. */
export function instrumentOf(tx: DecodedTransaction, services: SwitchServices): InstrumentRef {
  const pan = tx.request.get(Field.Pan);
  return pan !== undefined ? services.ledger.card(pan) : services.ledger.account(tx.request.get(Field.Account)!);
}

/**
 * Maps the instrument to a participant and its JHT balance, deciding by the core's access policy
 * (src/inquiry/access-policy.ts, the instrument rule): 14 when nothing is linked, 57 when the link or the
 * membership is not active. The read came with the duplicate-detection claim (detectDuplicate), in the same
 * statement behind the circuit breaker.
 */
export const lookupParticipant: Step = (tx) => {
  const lookup = tx.lookup;
  // detectDuplicate lets a request through only with a claim won here, and every claim carries the read.
  if (lookup === undefined) throw new Error('no ledger read came with the claim');
  const verdict = checkInstrumentRead(lookup.kind === 'found' ? lookup : undefined);
  tx.outcome = verdict.kind === 'allow' ? 'answered' : verdict.refusal;
  if (verdict.kind === 'allow') return { answer: 'approved' };
  const code = CODE_OF_REFUSAL[verdict.refusal];
  if (code === undefined) throw new Error(`the instrument rule gave ${verdict.refusal}, which has no ISO answer`);
  return refuse(code, verdict.detail);
};
