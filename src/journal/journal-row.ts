import type { JournalEntry } from './journal-entry.js';

/**
 * A journal row as both writers send it: the best-effort queue (JournalWriter.record) and the durable
 * commit that an answer waits for (DurableRecorder). One shape, one statement text, one column order.
 */

/** `integer` column; a latency past it (35 minutes) is a clock problem, not a measurement. */
const MAX_LATENCY_MICROS = 2_147_483_647;

/** The journal row, flattened at `record` time so the queue holds no references into the switch's objects. */
export interface JournalRow {
  kind: string;
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
}

// One statement per batch whatever its size: one array parameter per column, unnest() zips them into rows.
export const insertJournalSql = (commit: string): string => `
INSERT INTO journal (kind, partner_id, request_mti, response_mti, stan, transmission_at, terminal_id, rrn,
  acquirer_id, masked_pan, processing_code, response_code, received_at, responded_at, latency_us, inquiry_key_id,
  connection_id, remote_address, instance_id)
SELECT kind, partner_id, request_mti, response_mti, stan, transmission_at, terminal_id, rrn,
  acquirer_id, masked_pan, processing_code, response_code, received_at, responded_at, latency_us, inquiry_key_id,
  connection_id, remote_address, $19
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
  $9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[], $15::integer[],
  $16::bigint[], $17::text[], $18::text[])
  AS r(kind, partner_id, request_mti, response_mti, stan, transmission_at, terminal_id, rrn,
    acquirer_id, masked_pan, processing_code, response_code, received_at, responded_at, latency_us, inquiry_key_id,
    connection_id, remote_address)${commit}`;

export const JOURNAL_COLUMNS: readonly (keyof JournalRow)[] = [
  'kind', 'partnerId', 'requestMti', 'responseMti', 'stan', 'transmissionAt', 'terminalId', 'rrn',
  'acquirerId', 'maskedPan', 'processingCode', 'responseCode', 'receivedAt', 'respondedAt', 'latencyMicros', 'inquiryKeyId',
  'connectionId', 'remoteAddress',
];

export function toRow(entry: JournalEntry): JournalRow {
  const latency = entry.latencyMicros;
  return {
    kind: entry.kind,
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
  };
}

/** One array parameter per column, in {@link JOURNAL_COLUMNS} order ($1..$18). */
export function journalValues(batch: readonly JournalRow[]): unknown[][] {
  return JOURNAL_COLUMNS.map((column) => batch.map((row) => row[column]));
}
