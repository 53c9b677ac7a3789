import type { Pool } from 'pg';
import { TurnBatcher } from '../journal/turn-batcher.js';
import type { StoredOutcome } from './outcome.js';

/**
 * The journal of channel inquiries, durable like the ATM's (src/journal/durable-recorder.ts): the answer
 * leaves only once its journal row, and the outcome a repeat of its idempotency key will get, are on disk.
 * Both go in one statement with synchronous commit forced on; rows finishing in the same turn of the event
 * loop share it, and so share one WAL flush.
 */

export interface InquiryJournalRow {
  /** 'request', or 'retransmission' for a repeat answered from its stored outcome. */
  kind: 'request' | 'retransmission';
  channel: string;
  requester: string;
  participantId: bigint | null;
  maskedKpj: string | null;
  outcome: string;
  reasonCode: string | null;
  ticketId: string | null;
  reference: string;
  inquiryKeyId: number | null;
  receivedAt: Date;
  respondedAt: Date;
  latencyMicros: number;
  remoteAddress: string | null;
}

export interface OutcomeToStore {
  inquiryKeyId: number;
  outcome: StoredOutcome;
}

const COLUMNS = [
  'kind', 'channel', 'requester', 'participant_id', 'masked_kpj', 'outcome', 'reason_code', 'ticket_id',
  'reference', 'inquiry_key_id', 'received_at', 'responded_at', 'latency_us', 'remote_address',
] as const;
const TYPES = ['text', 'text', 'text', 'bigint', 'text', 'text', 'text', 'text', 'text', 'bigint', 'timestamptz', 'timestamptz', 'integer', 'text'];
const n = COLUMNS.length;

const SQL = `
WITH answers AS (
  INSERT INTO inquiry_answer (inquiry_key_id, outcome, body, responded_at)
  SELECT a.id, a.outcome, a.body, a.at
    FROM unnest($${n + 2}::bigint[], $${n + 3}::text[], $${n + 4}::jsonb[], $${n + 5}::timestamptz[]) AS a(id, outcome, body, at)
  ON CONFLICT (inquiry_key_id) DO NOTHING
)
INSERT INTO journal (${COLUMNS.join(', ')}, instance_id)
SELECT ${COLUMNS.join(', ')}, $${n + 1}
  FROM unnest(${COLUMNS.map((_, i) => `$${i + 1}::${TYPES[i]}[]`).join(', ')}) AS r(${COLUMNS.join(', ')}),
       (SELECT set_config('synchronous_commit', 'on', true)) AS durable_commit`;

/** `integer` column: a latency past it is a clock problem, not a measurement. */
const MAX_LATENCY_MICROS = 2_147_483_647;

interface Pending {
  row: InquiryJournalRow;
  store: OutcomeToStore | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class InquiryRecorder {
  private readonly batcher: TurnBatcher<Pending>;

  constructor(
    private readonly pool: Pool,
    private readonly options: { instanceId: string; guard?: <T>(work: () => Promise<T>) => Promise<T>; maxBatchSize?: number; maxInFlight?: number },
  ) {
    this.batcher = new TurnBatcher((batch) => this.run(batch), options.maxBatchSize ?? 500, options.maxInFlight ?? 2);
  }

  /** Resolves once the row (and the outcome to store, if any) is durable; rejects if nothing was written. */
  commit(row: InquiryJournalRow, store?: OutcomeToStore): Promise<void> {
    return new Promise((resolve, reject) => this.batcher.push({ row, store, resolve, reject }));
  }

  /** Rows waiting or in a statement still out (shutdown waits for 0). */
  get depth(): number {
    return this.batcher.depth;
  }

  private async run(batch: Pending[]): Promise<void> {
    const rows = batch.map((p) => p.row);
    const stored = batch.filter((p) => p.store !== undefined);
    const values: unknown[] = [
      rows.map((r) => r.kind), rows.map((r) => r.channel), rows.map((r) => r.requester),
      rows.map((r) => r.participantId?.toString() ?? null), rows.map((r) => r.maskedKpj), rows.map((r) => r.outcome),
      rows.map((r) => r.reasonCode), rows.map((r) => r.ticketId), rows.map((r) => r.reference), rows.map((r) => r.inquiryKeyId),
      rows.map((r) => r.receivedAt.toISOString()), rows.map((r) => r.respondedAt.toISOString()),
      rows.map((r) => Math.min(Math.max(0, Math.round(r.latencyMicros)), MAX_LATENCY_MICROS)), rows.map((r) => r.remoteAddress),
      this.options.instanceId,
      stored.map((p) => p.store!.inquiryKeyId), stored.map((p) => p.row.outcome),
      stored.map((p) => JSON.stringify(p.store!.outcome)), stored.map((p) => p.row.respondedAt.toISOString()),
    ];
    try {
      const work = () => this.pool.query({ name: 'jht_inquiry_journal_v1', text: SQL, values });
      await (this.options.guard ? this.options.guard(work) : work());
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    for (const p of batch) p.resolve();
  }
}
