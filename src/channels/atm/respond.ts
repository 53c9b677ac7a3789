import { IsoMessage } from '../../iso8583/index.js';
import { additionalAmounts, participantData } from '../../iso8583/vocabulary/index.js';
import { Field, ResponseCode, responseMti } from '../../iso8583/vocabulary/index.js';
import type { DecodedTransaction, StoredResponse } from './transaction.js';

/** Fields an inquiry or reversal answer echoes as received (CONTRACT), those present. */
const ECHOED_BY_FINANCIAL = [
  Field.Pan, Field.ProcessingCode, Field.Amount, Field.TransmissionDateTime, Field.Stan, Field.LocalTime,
  Field.LocalDate, Field.AcquirerId, Field.ForwardingId, Field.Rrn, Field.TerminalId, Field.Currency, Field.Account,
] as const;
const ECHOED_BY_REVERSAL = [...ECHOED_BY_FINANCIAL, Field.OriginalData] as const;
const ECHOED_BY_NETWORK = [Field.TransmissionDateTime, Field.Stan, Field.NetworkCode] as const;

function echoedFields(mti: string): readonly number[] {
  if (mti.startsWith('08')) return ECHOED_BY_NETWORK;
  if (mti.startsWith('04')) return ECHOED_BY_REVERSAL;
  return ECHOED_BY_FINANCIAL;
}

/** The part of an answer that is not an echo: stored for retransmissions. */
export function replayableOf(tx: DecodedTransaction): StoredResponse {
  const lookup = tx.lookup;
  if (tx.responseCode !== ResponseCode.Approved || lookup?.kind !== 'found') return { responseCode: tx.responseCode ?? ResponseCode.SystemError };
  return {
    responseCode: ResponseCode.Approved,
    additionalAmounts: additionalAmounts(lookup.balanceSen),
    additionalData: participantData(lookup.kpj, lookup.name, lookup.asOf),
  };
}

/**
 * The answer to a request: echoes per the contract plus 39, and 54/48 when approved. A retransmission
 * gets the stored answer with the echoes rebuilt from the (byte-identical) request.
 */
export function buildResponse(tx: DecodedTransaction): IsoMessage {
  const { request } = tx;
  const response = new IsoMessage(responseMti(request.mti));
  for (const field of echoedFields(request.mti)) {
    const value = request.get(field);
    if (value !== undefined) response.set(field, value);
  }
  const answer = tx.replay ?? replayableOf(tx);
  response.set(Field.ResponseCode, answer.responseCode);
  if (answer.additionalAmounts !== undefined) response.set(Field.AdditionalAmounts, answer.additionalAmounts);
  if (answer.additionalData !== undefined) response.set(Field.ParticipantData, answer.additionalData);
  return response;
}
