import type { Logger } from '../observability/logger.js';
import { BatchQueue } from './batch-queue.js';
import { commitMode } from './commit-mode.js';
import type { JournalEntry } from './journal-entry.js';
import { maskPan } from '../iso8583/index.js';
import { named, type SqlClient } from './sql-client.js';

export interface JournalWriterOptions {
  /** Identifies this switch process in every row (several instances may share the database). */
  instanceId: string;
  logger: Logger;
  /** A partial batch waits at most this long (default 50 ms). */
  flushIntervalMs?: number;
  /** Rows per INSERT; a full batch is written at once (default 500). */
  maxBatchSize?: number;
  /** Entries held while the database is away; past this, new ones are dropped and logged (default 200,000). */
  capacity?: number;
  /** Depth that logs an error (default 80% of capacity). */
  highWaterMark?: number;
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Wait for the WAL flush on every batch (default false: see commit-mode.ts). */
  synchronousCommit?: boolean;
}

/** `integer` column; a latency past it (35 minutes) is a clock problem, not a measurement. */
const MAX_LATENCY_MICROS = 2_147_483_647;

/** The journal row, flattened at `record` time so the queue holds no references into the switch's objects. */
interface JournalRow {
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
  txnKeyId: number | null;
  connectionId: string | null;
  remoteAddress: string | null;
}

// One statement per batch whatever its size: one array parameter per column, unnest() zips them into rows.
const insertJournal = (commit: string): string => `
INSERT INTO journal (kind, partner_id, request_mti, response_mti, stan, transmission_at, terminal_id, rrn,
  acquirer_id, masked_pan, processing_code, response_code, received_at, responded_at, latency_us, txn_key_id,
  connection_id, remote_address, instance_id)
SELECT kind, partner_id, request_mti, response_mti, stan, transmission_at, terminal_id, rrn,
  acquirer_id, masked_pan, processing_code, response_code, received_at, responded_at, latency_us, txn_key_id,
  connection_id, remote_address, $19
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
  $9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[], $15::integer[],
  $16::bigint[], $17::text[], $18::text[])
  AS r(kind, partner_id, request_mti, response_mti, stan, transmission_at, terminal_id, rrn,
    acquirer_id, masked_pan, processing_code, response_code, received_at, responded_at, latency_us, txn_key_id,
    connection_id, remote_address)${commit}`;

const COLUMNS: readonly (keyof JournalRow)[] = [
  'kind', 'partnerId', 'requestMti', 'responseMti', 'stan', 'transmissionAt', 'terminalId', 'rrn',
  'acquirerId', 'maskedPan', 'processingCode', 'responseCode', 'receivedAt', 'respondedAt', 'latencyMicros', 'txnKeyId',
  'connectionId', 'remoteAddress',
];

function toRow(entry: JournalEntry): JournalRow {
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
    maskedPan: entry.pan === undefined ? null : maskPan(entry.pan),
    processingCode: entry.processingCode ?? null,
    responseCode: entry.responseCode ?? null,
    receivedAt: entry.receivedAt.toISOString(),
    respondedAt: entry.respondedAt?.toISOString() ?? null,
    latencyMicros: latency === undefined ? null : Math.min(Math.max(0, Math.round(latency)), MAX_LATENCY_MICROS),
    txnKeyId: entry.txnKeyId ?? null,
    connectionId: entry.connectionId ?? null,
    remoteAddress: entry.remoteAddress ?? null,
  };
}

/**
 * The transaction journal. `record` never waits on the database, so the ATM's answer never does either:
 * entries are queued in memory and written in multi-row INSERTs every `flushIntervalMs` or `maxBatchSize`
 * entries, whichever comes first. If the database is down they stay queued (up to `capacity`, loudly past
 * the high-water mark) and are retried with backoff; `close()` writes everything before shutdown.
 */
export class JournalWriter {
  private readonly queue: BatchQueue<JournalRow>;
  private readonly insertSql: string;
  private readonly insertName: string;

  constructor(
    private readonly client: SqlClient,
    options: JournalWriterOptions,
  ) {
    const capacity = options.capacity ?? 200_000;
    const instanceId = options.instanceId;
    this.insertSql = insertJournal(commitMode(options.synchronousCommit ?? false));
    this.insertName = `jht_journal_insert_v1_${options.synchronousCommit ? 'sync' : 'async'}`;
    this.queue = new BatchQueue<JournalRow>({
      name: 'journal',
      write: (batch) => this.insert(batch, instanceId),
      flushIntervalMs: options.flushIntervalMs ?? 50,
      maxBatchSize: options.maxBatchSize ?? 500,
      capacity,
      highWaterMark: options.highWaterMark ?? Math.floor(capacity * 0.8),
      retryInitialDelayMs: options.retryInitialDelayMs ?? 100,
      retryMaxDelayMs: options.retryMaxDelayMs ?? 5_000,
      logger: options.logger,
    });
  }

  /** Queues an entry; returns at once. The PAN, if any, is masked here. */
  record(entry: JournalEntry): void {
    this.queue.push(toRow(entry));
  }

  /** Entries waiting to be written (a metrics gauge). */
  get queueDepth(): number {
    return this.queue.depth;
  }

  /** Entries lost because the queue was full or closed (each loss is also logged). */
  get droppedCount(): number {
    return this.queue.dropped;
  }

  /** Writes everything recorded so far; rejects if the database does (entries stay queued). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Writes everything, retrying for up to `timeoutMs`; `record` after this drops (and logs). */
  close(timeoutMs = 10_000): Promise<void> {
    return this.queue.close(timeoutMs);
  }

  private async insert(batch: readonly JournalRow[], instanceId: string): Promise<void> {
    const values: unknown[] = COLUMNS.map((column) => batch.map((row) => row[column]));
    values.push(instanceId);
    await this.client.query(named(this.insertName, this.insertSql, values));
  }
}
