import type { IsoMessage } from '../iso8583/index.js';
import { Field, ResponseCode } from '../iso8583/vocabulary/index.js';
import type { ExpectedAnswer } from './identities.js';
import type { ErrorKind } from './stats.js';

/** The response code counted for an answer without field 39. */
export const NO_RESPONSE_CODE = '--';

/**
 * Checks an answer already matched to its request by STAN: MTI, terminal echo, 39 present, and for an
 * approval 48 and 54 (CONTRACT "Balance inquiry request fields"). With `expected` (a demo card), the
 * answer must also be the contract's, byte for byte. Returns what is wrong, or undefined.
 */
export function checkAnswer(
  answer: IsoMessage,
  responseMti: string,
  terminalId: string,
  expected: ExpectedAnswer | undefined,
): ErrorKind | undefined {
  if (answer.mti !== responseMti) return 'wrong-mti';
  if (answer.get(Field.TerminalId) !== terminalId) return 'wrong-terminal';
  const code = answer.get(Field.ResponseCode);
  if (code === undefined) return 'no-response-code';
  const data = answer.get(Field.ParticipantData);
  const amounts = answer.get(Field.AdditionalAmounts);
  if (code === ResponseCode.Approved && (data === undefined || amounts === undefined)) return 'missing-balance';
  if (expected !== undefined) {
    if (code !== expected.responseCode) return 'unexpected-answer';
    if (expected.participantData !== undefined && data !== expected.participantData) return 'unexpected-answer';
    if (expected.additionalAmounts !== undefined && amounts !== expected.additionalAmounts) return 'unexpected-answer';
  }
  return undefined;
}
