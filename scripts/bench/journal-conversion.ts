/**
 * How long migration 010 (the journal partitioned by month) takes on a big journal, and how long the
 * switch's inserts wait meanwhile, both ways (docs/deployment.md, "The journal's partitions"). Run by hand:
 *
 *   npx tsx scripts/bench/journal-conversion.ts [--rows 3000000]
 *
 * Two databases with the same --rows journal rows (every index of migration 002) at migration 009:
 * A. `migrate` alone: the CHECK that proves the old rows fit is validated inside the migration, under the
 *    ACCESS EXCLUSIVE lock the rename takes;
 * B. the documented procedure: ADD CONSTRAINT ... NOT VALID and VALIDATE CONSTRAINT beforehand, online,
 *    then `migrate`, which finds the bound proven and changes the catalogue only.
 * Meanwhile a writer inserts one journal row every 10 ms; its longest wait is printed beside each step.
 */
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '../../src/ledger/migrate.js';
import { silentLogger } from '../../src/observability/logger.js';
import { initCluster, owned, report, startCluster, stopCluster, timed } from '../ops/cluster.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '3000000' } } });
const ROWS = Number(values.rows);
const PORT = 55493;
const log = silentLogger();

/** Inserts a journal row every 10 ms until stopped; reports how many, and the longest time one took. */
function writer(database: string): { stop: () => Promise<{ count: number; worst: number }> } {
  const db = new pg.Client({ host: '127.0.0.1', port: PORT, user: 'postgres', database });
  let running = true;
  let worst = 0;
  let count = 0;
  const loop = (async () => {
    await db.connect();
    while (running) {
      const started = performance.now();
      await db.query("INSERT INTO journal (kind, received_at, instance_id) VALUES ('writer', now(), 'bench')");
      worst = Math.max(worst, performance.now() - started);
      count++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await db.end();
  })();
  return { stop: async () => ((running = false), await loop, { count, worst }) };
}

async function during<T>(database: string, label: string, work: () => Promise<T>): Promise<T> {
  const w = writer(database);
  await new Promise((resolve) => setTimeout(resolve, 200)); // the writer is connected and inserting
  const result = await timed(label, work);
  const { count, worst } = await w.stop();
  report(`  longest of ${count} journal inserts meanwhile`, `${worst.toFixed(0)} ms`);
  return result;
}

const root = await mkdtemp(path.join(os.tmpdir(), 'jht-conversion-'));
const cluster = path.join(root, 'pg');
const until009 = path.join(root, 'migrations');
await owned(root);
await owned(until009);
for (const file of await readdir(DEFAULT_MIGRATIONS_DIR)) {
  if (file < '010') await copyFile(path.join(DEFAULT_MIGRATIONS_DIR, file), path.join(until009, file));
}
try {
  await initCluster(cluster);
  await startCluster(cluster, PORT, path.join(root, 'postgres.log'));
  const admin = new pg.Client({ host: '127.0.0.1', port: PORT, user: 'postgres', database: 'postgres' });
  await admin.connect();
  const pools = new Map<string, pg.Pool>();
  for (const name of ['a', 'b']) {
    await admin.query(`CREATE DATABASE ${name}`);
    const pool = new pg.Pool({ host: '127.0.0.1', port: PORT, user: 'postgres', database: name, max: 2 });
    pools.set(name, pool);
    await migrate(pool, { log, dir: until009 });
    await timed(`${name}: ${ROWS.toLocaleString('en')} journal rows over 90 days`, () => pool.query(`
      INSERT INTO journal (kind, stan, terminal_id, rrn, response_code, received_at, responded_at, latency_us, txn_key_id, instance_id)
      SELECT 'request', lpad((g % 1000000)::text, 6, '0'), 'ATM' || (g % 500), lpad(g::text, 12, '0'), '00',
             now() - (g * interval '90 days' / $1::int), now(), 900, g, 'bench'
        FROM generate_series(1, $1::int) g`, [ROWS]));
    await pool.query('VACUUM ANALYZE journal');
    const { rows: [size] } = await pool.query<{ size: string }>(
      "SELECT pg_size_pretty(pg_table_size('journal')) || ' + ' || pg_size_pretty(pg_indexes_size('journal')) || ' indexes' AS size");
    report(`  ${name}: journal size`, size!.size);
  }
  await admin.end();
  const bound = "date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 month'";

  await during('a', 'A. migrate (010 validates the bound itself)', () => migrate(pools.get('a')!, { log }));

  const b = pools.get('b')!;
  const { rows: [literal] } = await b.query<{ at: string }>(`SELECT (${bound})::text AS at`);
  await during('b', 'B1. ADD CONSTRAINT journal_partition_bound NOT VALID', () => b.query(
    `ALTER TABLE journal ADD CONSTRAINT journal_partition_bound CHECK (received_at < '${literal!.at}') NOT VALID`));
  await during('b', 'B2. VALIDATE CONSTRAINT (online)', () => b.query('ALTER TABLE journal VALIDATE CONSTRAINT journal_partition_bound'));
  await during('b', 'B3. migrate (010 finds the bound proven)', () => migrate(b, { log }));
  for (const pool of pools.values()) await pool.end();
} finally {
  await stopCluster(cluster, 'immediate').catch(() => undefined);
  await rm(root, { recursive: true, force: true });
}
