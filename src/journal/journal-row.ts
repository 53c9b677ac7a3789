import type { JournalEntry } from './journal-entry.js';

/**
 * A journal row as both writers send it, for every channel: the best-effort queue (JournalWriter.record) and
 * the durable commit that an answer waits for (DurableRecorder). One shape, one statement text, one column order.
 */

/** `integer` column; a latency past it (35 minutes) is a clock problem, not a measurement. */
const MAX_LATENCY_MICROS = 2_147_483_647;

/** The journal row, flattened at `record` time so the queue holds no references into the switch's objects. */
export interface JournalRow {
  kind: string;
  channel: string;
  partnerId: string | null;
  requestMti: string | null;
  responseMti: string | null;
  stan: string | null;
  transmissionAt: string | null;
  terminalId: string | null;
  rrn: string | null;
  acquirerId: string | null;
  maskedPan: string | null;
  processingCode: string | null;
  responseCode: string | null;
  receivedAt: string;
  respondedAt: string | null;
  latencyMicros: number | null;
  inquiryKeyId: number | null;
  connectionId: string | null;
  remoteAddress: string | null;
  requester: string | null;
  /** int8 as text: pg sends a bigint[] parameter as text either way. */
  participantId: string | null;
  maskedKpj: string | null;
  outcome: string | null;
  reasonCode: string | null;
  ticketId: string | null;
  reference: string | null;
}

/** Each column with its row field and SQL type, in parameter order ($1, $2, ...). */
const COLUMNS: readonly (readonly [column: string, field: keyof JournalRow, type: string])[] = [
  ['kind', 'kind', 'text'], ['channel', 'channel', 'text'], ['partner_id', 'partnerId', 'text'], ['request_mti', 'requestMti', 'text'],
  ['response_mti', 'responseMti', 'text'], ['stan', 'stan', 'text'], ['transmission_at', 'transmissionAt', 'text'],
  ['terminal_id', 'terminalId', 'text'], ['rrn', 'rrn', 'text'], ['acquirer_id', 'acquirerId', 'text'],
  ['masked_pan', 'maskedPan', 'text'], ['processing_code', 'processingCode', 'text'], ['response_code', 'responseCode', 'text'],
  ['received_at', 'receivedAt', 'timestamptz'], ['responded_at', 'respondedAt', 'timestamptz'], ['latency_us', 'latencyMicros', 'integer'],
  ['inquiry_key_id', 'inquiryKeyId', 'bigint'], ['connection_id', 'connectionId', 'text'], ['remote_address', 'remoteAddress', 'text'],
  ['requester', 'requester', 'text'], ['participant_id', 'participantId', 'bigint'], ['masked_kpj', 'maskedKpj', 'text'],
  ['outcome', 'outcome', 'text'], ['reason_code', 'reasonCode', 'text'], ['ticket_id', 'ticketId', 'text'],
  ['reference', 'reference', 'text'],
];

/** The parameter after the columns': this instance's id. The durable statement numbers its own after it. */
export const INSTANCE_PARAMETER = COLUMNS.length + 1;

// One statement per batch whatever its size: one array parameter per column, unnest() zips them into rows.
const names = COLUMNS.map(([column]) => column).join(', ');
export const insertJournalSql = (commit: string): string => `
INSERT INTO journal (${names}, instance_id)
SELECT ${names}, $${INSTANCE_PARAMETER}
FROM unnest(${COLUMNS.map(([, , type], i) => `$${i + 1}::${type}[]`).join(', ')})
  AS r(${names})${commit}`;

export function toRow(entry: JournalEntry): JournalRow {
  const latency = entry.latencyMicros;
  return {
    kind: entry.kind,
    channel: entry.channel,
    partnerId: entry.partnerId ?? null,
    requestMti: entry.requestMti ?? null,
    responseMti: entry.responseMti ?? null,
    stan: entry.stan ?? null,
    transmissionAt: entry.transmissionAt ?? null,
    terminalId: entry.terminalId ?? null,
    rrn: entry.rrn ?? null,
    acquirerId: entry.acquirerId ?? null,
    maskedPan: entry.maskedPan ?? null,
    processingCode: entry.processingCode ?? null,
    responseCode: entry.responseCode ?? null,
    receivedAt: entry.receivedAt.toISOString(),
    respondedAt: entry.respondedAt?.toISOString() ?? null,
    latencyMicros: latency === undefined ? null : Math.min(Math.max(0, Math.round(latency)), MAX_LATENCY_MICROS),
    inquiryKeyId: entry.inquiryKeyId ?? null,
    connectionId: entry.connectionId ?? null,
    remoteAddress: entry.remoteAddress ?? null,
    requester: entry.requester ?? null,
    participantId: entry.participantId?.toString() ?? null,
    maskedKpj: entry.maskedKpj ?? null,
    outcome: entry.outcome ?? null,
    reasonCode: entry.reasonCode ?? null,
    ticketId: entry.ticketId ?? null,
    reference: entry.reference ?? null,
  };
}

/** One array parameter per column, in column order ($1 .. $INSTANCE_PARAMETER - 1). */
export function journalValues(batch: readonly JournalRow[]): unknown[][] {
  return COLUMNS.map(([, field]) => batch.map((row) => row[field]));
}
