import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import type { Pool } from 'pg';
import { switchConfigSchema } from '../../src/config/schema.js';
import { ensureJournalPartitions, maintainJournal, JournalError } from '../../src/journal/index.js';
import { DEFAULT_MIGRATIONS_DIR, SWITCH_ROLE, migrate } from '../../src/ledger/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { connectAsRole, expectThrows, getTestDatabase } from '../support/index.js';

const DAY = 86_400_000;
const log = silentLogger();

/** The first instant of the UTC month `months` after the one of `date`. */
function monthStart(date: Date, months = 0): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
}

function partitionName(month: Date): string {
  return `journal_${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

async function partitions(pool: Pool): Promise<Array<{ name: string; lower: Date; upper: Date }>> {
  const { rows } = await pool.query<{ name: string; lower: Date; upper: Date }>(
    'SELECT partition_name AS name, lower_bound AS lower, upper_bound AS upper FROM journal_partition_bounds() ORDER BY upper_bound');
  return rows;
}

async function insertAt(pool: Pool, kind: string, at: Date): Promise<void> {
  await pool.query("INSERT INTO journal (kind, received_at, instance_id) VALUES ($1, $2, 'partitions-test')", [kind, at]);
}

async function kinds(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ kind: string }>("SELECT kind FROM journal WHERE instance_id = 'partitions-test' ORDER BY received_at");
  return rows.map((row) => row.kind);
}

describe('journal: monthly partitions (migration 010)', function () {
  this.timeout(60_000);

  it('the shared database has this month and the next three, and the switch role can only ask for those', async () => {
    const { pool } = await getTestDatabase();
    const now = new Date();
    const covered = (await partitions(pool)).filter((p) => p.upper > now);
    // The first may be the converted table's, FROM (MINVALUE): pg gives '-infinity' as text.
    expect(covered[0]!.lower instanceof Date ? covered[0]!.lower.getTime() : -Infinity).to.be.at.most(now.getTime());
    expect(covered.at(-1)!.upper.getTime()).to.be.at.least(monthStart(now, 4).getTime());
    const asSwitch = await connectAsRole(SWITCH_ROLE);
    try {
      expect((await ensureJournalPartitions(asSwitch)).getTime()).to.be.at.least(monthStart(now, 4).getTime());
      for (const sql of ["SELECT journal_create_partitions('2040-01-01', 1)", 'CREATE TABLE journal_2040_01 (LIKE journal)',
        'ALTER TABLE journal DETACH PARTITION ' + covered[0]!.name, 'DROP TABLE ' + covered[0]!.name]) {
        const error = await asSwitch.query(sql).then(() => undefined, (e: unknown) => e as { code?: string });
        expect(error?.code, sql).to.equal('42501');
      }
    } finally {
      await asSwitch.end();
    }
  });

  describe('converting a journal, then retention', () => {
    const dbName = `jht_partitions_${process.pid}`;
    let admin: Pool;
    let pool: Pool;
    let dir: string;

    before(async () => {
      admin = (await getTestDatabase()).pool;
      await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
      await admin.query(`CREATE DATABASE ${dbName}`);
      const { options } = admin;
      pool = new pg.Pool({ host: options.host, port: options.port, user: options.user, password: options.password, database: dbName, max: 2 });
      // Up to the migration before this one: an unpartitioned journal with rows old and new.
      dir = await mkdtemp(path.join(os.tmpdir(), 'jht-migrations-'));
      for (const file of await readdir(DEFAULT_MIGRATIONS_DIR)) {
        if (file < '010') await copyFile(path.join(DEFAULT_MIGRATIONS_DIR, file), path.join(dir, file));
      }
      await migrate(pool, { log, dir });
    });

    after(async () => {
      await pool?.end();
      await admin?.query(`DROP DATABASE IF EXISTS ${dbName}`);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('keeps every row, continues the ids, moves the grants, and attaches the months ahead', async () => {
      const now = new Date();
      await insertAt(pool, 'old', new Date(now.getTime() - 400 * DAY));
      await insertAt(pool, 'recent', new Date(now.getTime() - DAY));
      const { rows: [before] } = await pool.query<{ id: string }>('SELECT max(id)::text AS id FROM journal');
      await migrate(pool, { log });

      const list = await partitions(pool);
      const bound = monthStart(now, 1);
      expect(list[0]).to.deep.include({ name: `journal_before_${partitionName(bound).slice(8)}`, upper: bound });
      expect(list.map((p) => p.name).slice(1)).to.deep.equal([1, 2, 3].map((m) => partitionName(monthStart(now, m))));
      expect(await kinds(pool)).to.deep.equal(['old', 'recent']);
      await insertAt(pool, 'after', now);
      const { rows: [after] } = await pool.query<{ id: string }>("SELECT id::text FROM journal WHERE kind = 'after'");
      expect(BigInt(after!.id) > BigInt(before!.id), `id ${after!.id} after ${before!.id}`).to.equal(true);
      const { rows: grants } = await pool.query<{ relname: string; acl: string | null }>(`
        SELECT c.relname, c.relacl::text AS acl FROM pg_class c WHERE c.relname IN ('journal', $1)`, [list[0]!.name]);
      const acl = new Map(grants.map((g) => [g.relname, g.acl ?? '']));
      expect(acl.get('journal')).to.include('jht_switch=a/').and.to.include('jht_support=r/');
      expect(acl.get(list[0]!.name)).not.to.include('jht_switch').and.not.to.include('jht_support');
    });

    it('drops a whole partition once its month is past retention, keeps the months inside it, and can keep it detached first', async () => {
      const now = new Date();
      const first = monthStart(now, 1); // the first month with a partition of its own
      await insertAt(pool, 'first-month', new Date(first.getTime() + DAY));
      await insertAt(pool, 'second-month', new Date(monthStart(now, 2).getTime() + DAY));
      const legacy = (await partitions(pool))[0]!.name;

      // A day into the 13th month after the old table's last: it alone is past 12 months.
      const later = new Date(monthStart(first, 12).getTime() + DAY);
      const kept = await maintainJournal(pool, { retentionMonths: 12, log, now: later, keepDetached: true });
      expect(kept).to.deep.include({ detached: [legacy], dropped: [] });
      expect(await kinds(pool)).to.deep.equal(['first-month', 'second-month']);
      const { rows: [archived] } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${legacy}`);
      expect(archived!.n, 'the detached table still holds its rows, to be archived').to.equal(3);
      expect((await partitions(pool)).map((p) => p.name)).to.include(partitionName(monthStart(later)));

      const dropped = await maintainJournal(pool, { retentionMonths: 12, log, now: later });
      expect(dropped).to.deep.include({ detached: [], dropped: [legacy] });
      expect((await pool.query('SELECT to_regclass($1) AS t', [legacy])).rows[0].t).to.equal(null);

      // A month on, the first month's partition goes with its row; the second month's row stays.
      const next = await maintainJournal(pool, { retentionMonths: 12, log, now: new Date(monthStart(first, 13).getTime() + DAY) });
      expect(next).to.deep.include({ detached: [partitionName(first)], dropped: [partitionName(first)] });
      expect(await kinds(pool)).to.deep.equal(['second-month']);

      // Longer retention: nothing more goes.
      const longer = await maintainJournal(pool, { retentionMonths: 24, log, now: new Date(monthStart(first, 14).getTime() + DAY) });
      expect(longer).to.deep.include({ detached: [], dropped: [] });
      expect(await kinds(pool)).to.deep.equal(['second-month']);
    });

    it('refuses a retention under 12 months, in the configuration and in maintain', async () => {
      expect(switchConfigSchema.parse({}).journal.retentionMonths).to.equal(12);
      const parsed = switchConfigSchema.safeParse({ journal: { retentionMonths: 11 } });
      expect(parsed.success).to.equal(false);
      expect(parsed.error?.issues[0]?.path).to.deep.equal(['journal', 'retentionMonths']);
      await expectThrows(() => maintainJournal(pool, { retentionMonths: 11, log }), JournalError, 'JOURNAL_RETENTION_TOO_SHORT');
    });
  });
});
