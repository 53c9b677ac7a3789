import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../observability/logger.js';
import { JournalError } from './errors.js';

/**
 * The journal's monthly partitions (migration 010; docs/deployment.md, "The journal's partitions").
 *
 * Two duties, two sets of credentials:
 * - creating the next months' partitions is harmless and must never be forgotten, so every switch does it,
 *   at start and daily ({@link keepJournalPartitions}), through `journal_ensure_partitions()`: a SECURITY
 *   DEFINER function owned by jht_owner that takes no argument and can only attach the calendar's next empty
 *   months. The switch's role has no DDL right of its own.
 * - dropping old months destroys audit records, so it is never the switch's: `jht-switch journal maintain`
 *   ({@link maintainJournal}) runs it with the schema owner's credentials, from a timer.
 */

/** PCI DSS 10.5.1: audit log history is kept at least 12 months. */
export const MIN_RETENTION_MONTHS = 12;
const ENSURE_EVERY_MS = 86_400_000;
/** Less than this covered ahead means the daily creation has been failing for weeks: say so loudly. */
const WARN_COVERED_AHEAD_MS = 31 * 86_400_000;

type Queryable = Pick<Pool | PoolClient, 'query'>;

/** Attaches this month's and the next three months' partitions if missing; returns the end of what is covered. */
export async function ensureJournalPartitions(db: Queryable): Promise<Date> {
  try {
    const { rows: [row] } = await db.query<{ covered: Date }>('SELECT journal_ensure_partitions() AS covered');
    return row!.covered;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new JournalError('JOURNAL_PARTITIONS_UNAVAILABLE', `could not create the journal's next partitions: ${reason}`, { cause: error });
  }
}

export interface PartitionKeeper {
  /** The end of what the partitions covered at the last successful check. */
  readonly coveredUntil: Date;
  stop(): void;
}

/**
 * Ensures the partitions now (a failure stops the start: without this month's partition no journal row can be
 * written), then daily; a later failure is logged and retried the next day, with three months of margin.
 */
export async function keepJournalPartitions(db: Queryable, log: Logger, everyMs = ENSURE_EVERY_MS): Promise<PartitionKeeper> {
  let coveredUntil = await ensureJournalPartitions(db);
  const report = (): void => {
    const ahead = coveredUntil.getTime() - Date.now();
    if (ahead < WARN_COVERED_AHEAD_MS) {
      log.error({ coveredUntil: coveredUntil.toISOString() }, 'journal: partitions cover less than a month ahead; journal rows past that will be refused');
    } else {
      log.info({ coveredUntil: coveredUntil.toISOString() }, 'journal: partitions ready');
    }
  };
  report();
  const timer = setInterval(() => {
    ensureJournalPartitions(db).then(
      (covered) => ((coveredUntil = covered), report()),
      (error: unknown) => log.error({ err: error }, 'journal: could not create the next partitions; will try again'),
    );
  }, everyMs);
  timer.unref();
  return {
    get coveredUntil() {
      return coveredUntil;
    },
    stop: () => clearInterval(timer),
  };
}

export interface MaintainOptions {
  /** Months of journal kept; at least {@link MIN_RETENTION_MONTHS}. */
  retentionMonths: number;
  log: Logger;
  /** Detach expired partitions but keep them as tables, to archive them first (docs/deployment.md). */
  keepDetached?: boolean;
  /** The clock (tests); default now. */
  now?: Date;
}

export interface MaintainResult {
  coveredUntil: Date;
  /** Rows older than this may be gone: every partition that ended before it was detached. */
  cutoff: Date;
  detached: string[];
  dropped: string[];
}

const LOCK_TIMEOUT = "SET lock_timeout = '10s'";

/**
 * With the owner's credentials: creates the partitions ahead (as of `now`), then detaches every partition
 * whose upper bound is at or before `now - retentionMonths` and drops it, unless `keepDetached`. Tables left
 * detached by an earlier run (named journal_YYYY_MM or journal_before_YYYY_MM) are dropped once expired.
 * DETACH ... CONCURRENTLY takes SHARE UPDATE EXCLUSIVE on the journal: the switches' inserts go on.
 */
export async function maintainJournal(pool: Pool, options: MaintainOptions): Promise<MaintainResult> {
  if (!Number.isInteger(options.retentionMonths) || options.retentionMonths < MIN_RETENTION_MONTHS) {
    throw new JournalError('JOURNAL_RETENTION_TOO_SHORT',
      `journal retention must be at least ${MIN_RETENTION_MONTHS} months (PCI DSS 10.5.1), not ${options.retentionMonths}`);
  }
  const now = options.now ?? new Date();
  const client = await pool.connect();
  let clean = false;
  try {
    await client.query(LOCK_TIMEOUT);
    const { rows: [ahead] } = await client.query<{ covered: Date; cutoff: Date }>(
      `SELECT journal_create_partitions(date_trunc('month', $1::timestamptz AT TIME ZONE 'UTC')::date, 4) AS covered,
              $1::timestamptz - make_interval(months => $2) AS cutoff`, [now, options.retentionMonths]);
    const { covered, cutoff } = ahead!;
    const { rows: expired } = await client.query<{ partition_name: string; detach_pending: boolean }>(
      'SELECT partition_name, detach_pending FROM journal_partition_bounds() WHERE upper_bound <= $1 ORDER BY upper_bound', [cutoff]);
    const detached: string[] = [];
    for (const partition of expired) {
      const name = client.escapeIdentifier(partition.partition_name);
      // A detach interrupted earlier is finished, not started again.
      await client.query(`ALTER TABLE journal DETACH PARTITION ${name} ${partition.detach_pending ? 'FINALIZE' : 'CONCURRENTLY'}`);
      detached.push(partition.partition_name);
      options.log.info({ partition: partition.partition_name }, 'journal: expired partition detached');
    }
    const dropped: string[] = [];
    if (!options.keepDetached) {
      for (const table of await detachedExpiredTables(client, cutoff)) {
        await client.query(`DROP TABLE ${client.escapeIdentifier(table)}`);
        dropped.push(table);
        options.log.info({ table }, 'journal: expired partition dropped');
      }
    }
    await client.query('RESET lock_timeout');
    clean = true;
    return { coveredUntil: covered, cutoff, detached, dropped };
  } finally {
    client.release(!clean);
  }
}

/**
 * Former partitions, recognised by name and by not being a partition: journal_YYYY_MM ends a month after its
 * name, journal_before_YYYY_MM at its name.
 */
async function detachedExpiredTables(client: PoolClient, cutoff: Date): Promise<string[]> {
  const { rows } = await client.query<{ relname: string }>(`
    SELECT relname FROM (
      SELECT c.relname,
             CASE WHEN m[1] IS NULL THEN (m[2] || '_01')::date + interval '1 month' ELSE (m[2] || '_01')::date END
               AT TIME ZONE 'UTC' AS upper_bound
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL regexp_match(c.relname, '^journal_(before_)?([0-9]{4}_[0-9]{2})$') AS m
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relispartition) t
     WHERE upper_bound <= $1 ORDER BY upper_bound`, [cutoff]);
  return rows.map((row) => row.relname);
}
