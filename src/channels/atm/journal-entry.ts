import { maskPan, type IsoMessage } from '../../iso8583/index.js';
import { describeRequester, maskKpj } from '../../inquiry/index.js';
import type { JournalEntry } from '../../journal/index.js';
import { Field } from '../../iso8583/vocabulary/index.js';
import type { DecodedTransaction, Transaction } from './transaction.js';

/** Receive-to-send latency in microseconds, from the monotonic clock. */
export function latencyMicros(tx: Transaction): number {
  return Number((process.hrtime.bigint() - tx.startedNs) / 1000n);
}

/** Field 2 masked (first 6 + last 4): the journal and the log line never hold it in clear. */
export function maskedPanOf(request: IsoMessage): string | undefined {
  const pan = request.get(Field.Pan);
  return pan === undefined ? undefined : maskPan(pan);
}

/** The journal row of one request and its answer, the PAN masked before it leaves the channel. */
export function journalEntryOf(tx: DecodedTransaction, response: IsoMessage | undefined, connectionId: string): JournalEntry {
  const request = tx.request;
  const found = tx.lookup?.kind === 'found' ? tx.lookup : undefined;
  return {
    kind: response ? tx.kind : 'unanswered',
    channel: 'atm',
    partnerId: tx.session.partner.id,
    requestMti: request.mti,
    responseMti: response?.mti,
    stan: request.get(Field.Stan),
    transmissionAt: request.get(Field.TransmissionDateTime),
    terminalId: request.get(Field.TerminalId),
    rrn: request.get(Field.Rrn),
    acquirerId: request.get(Field.AcquirerId),
    maskedPan: maskedPanOf(request),
    processingCode: request.get(Field.ProcessingCode),
    responseCode: response?.get(Field.ResponseCode),
    receivedAt: tx.receivedAt,
    respondedAt: response ? new Date() : undefined,
    latencyMicros: latencyMicros(tx),
    inquiryKeyId: tx.keyId,
    connectionId,
    remoteAddress: tx.session.remoteAddress,
    requester: describeRequester({ kind: 'partner', partnerId: tx.session.partner.id, terminalId: request.get(Field.TerminalId) ?? '' }),
    ...(found ? { participantId: found.participantId, maskedKpj: maskKpj(found.kpj) } : {}),
    // A replay's outcome is its original's, journaled with it; a 91 decided after the read is no answer.
    outcome: response && (tx.kind === 'request' || tx.kind === 'reprocessed') ? tx.outcome : undefined,
  };
}
