import type { PoolClient } from 'pg';
import type { DataKey } from '../../security/keys/index.js';
import type { CopyValue } from './copy-text.js';
import type { CsvFileShape, CsvRecord } from './csv-records.js';
import type { RowError } from './errors.js';

/** One kind of data file (specs/DATA-FILES.md): how its rows are checked, hashed, staged and applied. */
export interface FileKind {
  readonly name: 'participants' | 'links' | 'postings';
  readonly shape: CsvFileShape;
  /** The columns of the TEMP staging table, after `line integer`; the COPY row gives them in this order. */
  readonly staging: string;
  /**
   * The row to COPY (hashes and masked forms only), or why it is invalid. During a rotation window the
   * previous key's hash is staged too, so that the apply can find what it wrote and rekey it in place.
   */
  stage(record: CsvRecord, header: ReadonlySet<string>, keys: StageKeys): { row: CopyValue[] } | { errors: RowError[] };
  /** After the COPY, before the checks: statements that resolve the staged rows against the ledger once. */
  prepare?(client: PoolClient): Promise<void>;
  /** Set-based checks on the staged rows against each other and the ledger: queries of (line, column, reason). */
  checks(header: ReadonlySet<string>): readonly string[];
  /**
   * --initial: the statement that inserts the rows of TEMP table `segment` (a part of the file, staged as `stage`
   * is) while the next part is read and hashed (initial-segments.ts), counting them as `n`; $1 is the key id.
   * It runs before the checks, so it skips what they will refuse instead of failing on it. Absent: the file is
   * applied whole, after its checks.
   */
  initialSegment?(header: ReadonlySet<string>): string;
  /** Applies the staged rows (table `stage`) in the caller's transaction. */
  apply(client: PoolClient, header: ReadonlySet<string>, keys: StageKeys, initial: boolean): Promise<ApplyCounts>;
  /** --initial: how many rows of this kind the ledger holds beyond the demo's (must be 0); $1 is the demo's KPJs. */
  readonly realRowsSql: string;
}

/** The data keys an import hashes with: `current` for every hash it writes; `previous` only during a rotation window. */
export interface StageKeys {
  readonly current: StageKey;
  readonly previous?: StageKey | undefined;
}

/** What staging needs of a data key: a DataKey, or its hashing keys in a staging worker (stage-worker.ts). */
export type StageKey = Pick<DataKey, 'id' | 'hmac'>;

export interface LinkMove {
  readonly line: number;
  readonly kind: string;
  readonly last4: string;
  readonly from: string;
  readonly to: string;
}

export interface ApplyCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  removed: number;
  /** Rows whose hashes were under the previous key and now are under the current one, in place (a rotation). */
  rekeyed: number;
  moves: LinkMove[];
}

/** `count(*)` of a statement, for the counts. `keyId` is bound as $1 when the statement uses it. */
export async function countOf(client: PoolClient, sql: string, keyId?: string): Promise<number> {
  const { rows } = await client.query<{ n: string | number | bigint }>(sql, keyId !== undefined && sql.includes('$1') ? [keyId] : []);
  return Number(rows[0]?.n ?? 0);
}

/**
 * A check (line, column, reason) for the rows of `rows` (a table, or a subquery in parentheses) whose `key`
 * appeared on an earlier line. A hash aggregate finds the keys seen twice (usually none), and only their rows are
 * read again: about twice as fast as a window over a sort of every row (measured on 220,000 staged links).
 * `reason` may use `s.` (the row) and `d.first` (the first line of its key).
 */
export function repeatedKeyCheck(rows: string, key: readonly string[], column: string, reason: string): string {
  const keys = key.join(', ');
  return `SELECT s.line, '${column}' AS "column", ${reason} AS reason
    FROM ${rows} s
    JOIN (SELECT ${keys}, min(line) AS first FROM ${rows} r GROUP BY ${keys} HAVING count(*) > 1) d
      ON ${key.map((k) => `d.${k} = s.${k}`).join(' AND ')}
   WHERE s.line <> d.first`;
}
