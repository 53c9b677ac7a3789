import { Field, INDONESIAN_RUPIAH, ResponseCode, isBalanceInquiry } from '../../../iso8583/vocabulary/index.js';
import { CONTINUE, refuse, type Step } from '../transaction.js';
import { isMonthDay, isTimeOfDay, isTransmissionDateTime } from './date-fields.js';

const MANDATORY = [
  Field.ProcessingCode, Field.TransmissionDateTime, Field.Stan, Field.LocalTime, Field.LocalDate,
  Field.AcquirerId, Field.Rrn, Field.TerminalId, Field.Currency,
] as const;

/**
 * Balance inquiry checks, in the contract's order: processing code (12), mandatory fields and their
 * formats (30), then field 4 (13).
 */
export const validateInquiry: Step = (tx) => {
  const request = tx.request;
  const processingCode = request.get(Field.ProcessingCode);
  if (processingCode !== undefined && !isBalanceInquiry(processingCode)) {
    return refuse(ResponseCode.UnsupportedTransaction, 'processing code is not a JHT balance inquiry (31xx00)');
  }
  for (const field of MANDATORY) {
    if (!request.has(field)) return refuse(ResponseCode.FormatError, `mandatory field ${field} missing`);
  }
  if (!request.has(Field.Pan) && !request.has(Field.Account)) {
    return refuse(ResponseCode.FormatError, 'neither field 2 nor field 102 identifies the account');
  }
  if (request.get(Field.Pan) === '' || request.get(Field.Account) === '') {
    return refuse(ResponseCode.FormatError, 'field 2 or 102 is empty');
  }
  if (request.get(Field.Currency) !== INDONESIAN_RUPIAH) return refuse(ResponseCode.FormatError, 'field 49 is not 360');
  if (!isTransmissionDateTime(request.get(Field.TransmissionDateTime)!)) {
    return refuse(ResponseCode.FormatError, 'field 7 is not a valid MMDDhhmmss');
  }
  if (!isTimeOfDay(request.get(Field.LocalTime)!)) return refuse(ResponseCode.FormatError, 'field 12 is not a valid hhmmss');
  if (!isMonthDay(request.get(Field.LocalDate)!)) return refuse(ResponseCode.FormatError, 'field 13 is not a valid MMDD');
  if (!tx.session.allowsProcessingCode(processingCode!)) {
    return refuse(ResponseCode.UnsupportedTransaction, 'processing code not enabled for this partner');
  }
  const amount = request.get(Field.Amount);
  if (amount !== undefined && !/^0+$/.test(amount)) return refuse(ResponseCode.InvalidAmount, 'field 4 is not zero');
  return CONTINUE;
};
