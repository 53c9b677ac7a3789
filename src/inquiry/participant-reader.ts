import type { Pool, QueryConfig } from 'pg';
import { TurnBatcher } from '../journal/turn-batcher.js';
import type { ParticipantRecord } from './access-policy.js';

/**
 * The ledger read by KPJ, for channels that name the participant (REST; later SMS, e-mail, `participant
 * show`). Reads that arrive in one turn of the event loop go as one query, like the ATM's claims; each runs
 * through the ledger's circuit breaker (LedgerReader.guard), and each keeps its own time budget from the
 * moment the channel received the inquiry.
 */

export type ReadResult =
  | { readonly kind: 'read'; readonly record: ParticipantRecord | undefined }
  /** The breaker is open, the budget was missed or the database failed: the channel answers "try again". */
  | { readonly kind: 'unavailable'; readonly reason: 'breaker-open' | 'timeout' | 'database-error' };

export interface ParticipantReaderOptions {
  /** LedgerReader.guard: the breaker every ledger round trip goes through. */
  guard: <T>(work: () => Promise<T>) => Promise<T>;
  /** The budget of one inquiry's read, from its `startedAt`. */
  timeoutMs: number;
  maxBatchSize?: number;
  maxInFlight?: number;
}

interface Pending {
  kpj: string;
  deadline: number;
  resolve: (result: ReadResult) => void;
}

interface Row {
  ord: number;
  id: bigint | string;
  kpj_number: string;
  name: string;
  membership_status: string;
  nik_hash: Buffer | null;
  nik_key_id: string | null;
  balance_sen: bigint | string;
  as_of: string;
}

// char(11) on both sides, so the unique index on kpj_number is used.
const READ_SQL = `
SELECT q.ord::int4 AS ord, p.id, p.kpj_number, p.name, p.membership_status, p.nik_hash, p.nik_key_id,
       coalesce(b.balance_sen, 0) AS balance_sen,
       to_char(coalesce(b.as_of, p.created_at::date), 'YYYY-MM-DD') AS as_of
  FROM unnest($1::char(11)[]) WITH ORDINALITY AS q (kpj, ord)
  JOIN participant p ON p.kpj_number = q.kpj
  LEFT JOIN jht_balance b ON b.participant_id = p.id`;

interface TimedQuery extends QueryConfig<[string[]]> {
  query_timeout: number;
}

const TIMEOUT_CODES = new Set(['57014', 'ETIMEDOUT']);

export class ParticipantReader {
  private readonly batcher: TurnBatcher<Pending>;

  constructor(private readonly pool: Pool, private readonly options: ParticipantReaderOptions) {
    this.batcher = new TurnBatcher((batch) => this.run(batch), options.maxBatchSize ?? 64, options.maxInFlight ?? 4);
  }

  /** Never rejects. */
  read(kpj: string, startedAt: number): Promise<ReadResult> {
    return new Promise((resolve) => this.batcher.push({ kpj, deadline: startedAt + this.options.timeoutMs, resolve }));
  }

  private async run(batch: Pending[]): Promise<void> {
    const now = performance.now();
    const live = batch.filter((p) => {
      if (p.deadline > now) return true;
      p.resolve({ kind: 'unavailable', reason: 'timeout' });
      return false;
    });
    if (live.length === 0) return;
    const budgetMs = Math.max(1, Math.min(...live.map((p) => p.deadline)) - now);
    try {
      const rows = await this.options.guard(() => this.query(live.map((p) => p.kpj), budgetMs));
      const byOrd = new Map(rows.map((row) => [row.ord, row]));
      live.forEach((p, i) => p.resolve({ kind: 'read', record: recordOf(byOrd.get(i + 1)) }));
    } catch (error) {
      const reason = unavailableReason(error);
      for (const p of live) p.resolve({ kind: 'unavailable', reason });
    }
  }

  private async query(kpjs: string[], budgetMs: number): Promise<Row[]> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('ledger read budget missed'), { code: 'ETIMEDOUT' })), budgetMs);
    });
    const query: TimedQuery = { name: 'jht_inquiry_by_kpj_v1', text: READ_SQL, values: [kpjs], query_timeout: Math.ceil(budgetMs) };
    try {
      return (await Promise.race([this.pool.query<Row, [string[]]>(query), expired])).rows;
    } finally {
      clearTimeout(timer);
    }
  }
}

function recordOf(row: Row | undefined): ParticipantRecord | undefined {
  if (row === undefined) return undefined;
  return {
    id: BigInt(row.id),
    kpj: row.kpj_number,
    name: row.name,
    membershipStatus: row.membership_status,
    nikHash: row.nik_hash,
    nikKeyId: row.nik_key_id,
    balanceSen: BigInt(row.balance_sen),
    asOf: row.as_of,
  };
}

function unavailableReason(error: unknown): 'breaker-open' | 'timeout' | 'database-error' {
  const code = (error as { code?: unknown; reason?: unknown } | null)?.code;
  const reason = (error as { reason?: unknown } | null)?.reason;
  if (code === 'EOPENBREAKER' || code === 'ESHUTDOWN' || reason === 'breaker-open') return 'breaker-open';
  if (TIMEOUT_CODES.has(String(code)) || (error instanceof Error && error.message === 'Query read timeout')) return 'timeout';
  return 'database-error';
}
