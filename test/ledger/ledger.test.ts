import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import {
  DEMO_AS_OF, DEMO_PARTICIPANTS, DEMO_UNLINKED_CARD, instrumentHash, lastFour, loadMigrations, migrate, seedDemoData,
} from '../../src/ledger/index.js';
import type { DatabaseHandle } from '../../src/ledger/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { DataKey } from '../../src/security/keys/index.js';
import { demo, expectThrows, getTestDatabase, readLedger, TEST_KEYS } from '../support/index.js';

const log = silentLogger();

describe('ledger: instrument hash', () => {
  it('is a keyed HMAC-SHA256: 32 bytes, stable, different under another key', () => {
    const a = instrumentHash(TEST_KEYS.current, demo.approvedCard);
    expect(a).to.have.length(32);
    expect(instrumentHash(TEST_KEYS.current, demo.approvedCard).equals(a)).to.equal(true);
    expect(instrumentHash(new DataKey(randomBytes(32)), demo.approvedCard).equals(a)).to.equal(false);
    expect(lastFour('4111111111111111')).to.equal('1111');
  });
});

describe('ledger: PostgreSQL', function () {
  this.timeout(60_000);
  let db: DatabaseHandle;
  let pool: Pool;

  before(async () => {
    db = await getTestDatabase();
    pool = db.pool;
  });

  describe('migrations', () => {
    it('records every migration file exactly once', async () => {
      const files = await loadMigrations();
      const { rows } = await pool.query<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      );
      expect(rows.map((r) => [r.version, r.name])).to.deep.equal(files.map((m) => [m.version, m.name]));
      expect(files[0]).to.include({ version: 1, name: 'ledger' });
    });

    it('applies nothing when run again', async () => {
      const result = await migrate(pool, { log });
      expect(result.applied).to.deep.equal([]);
    });

    it('applies each migration once when two instances migrate a fresh database together', async function () {
      const scratch = `jht_scratch_${randomBytes(4).toString('hex')}`;
      try {
        await pool.query(`CREATE DATABASE ${scratch}`);
      } catch {
        this.skip(); // DATABASE_URL without CREATEDB
      }
      const pools = [scratchPool(pool, scratch), scratchPool(pool, scratch)];
      try {
        const results = await Promise.all(pools.map((p) => migrate(p, { log })));
        const applied = results.flatMap((r) => r.applied.map((m) => m.version)).sort((a, b) => a - b);
        expect(applied).to.deep.equal((await loadMigrations()).map((m) => m.version));
      } finally {
        await Promise.all(pools.map((p) => p.end()));
        await pool.query(`DROP DATABASE ${scratch} WITH (FORCE)`);
      }
    });
  });

  describe('demo data', () => {
    it('is seeded idempotently: a second seed inserts nothing', async () => {
      const again = await seedDemoData(pool, TEST_KEYS.current);
      expect(again).to.deep.equal({ participants: 0, links: 0, postings: 0 });
    });

    it('resolves every demo card and account to its participant, balance and as-of date', async () => {
      for (const participant of DEMO_PARTICIPANTS) {
        const lookups = await Promise.all([
          ...participant.cards.map((card) => readLedger(pool, TEST_KEYS, { card })),
          ...participant.accounts.map((account) => readLedger(pool, TEST_KEYS, { account })),
        ]);
        for (const lookup of lookups) {
          expect(lookup).to.deep.include({
            kind: 'found', kpj: participant.kpj, name: participant.name,
            membershipStatus: participant.membershipStatus, linkStatus: 'ACTIVE',
            balanceSen: participant.balanceSen, asOf: demo.asOf,
          });
        }
      }
      expect(await readLedger(pool, TEST_KEYS, { card: demo.blockedCard })).to.include({ kind: 'found', membershipStatus: 'BLOCKED' });
    });

    it('does not link the unlinked demo card, nor a card number given as an account', async () => {
      expect(await readLedger(pool, TEST_KEYS, { card: DEMO_UNLINKED_CARD })).to.deep.equal({ kind: 'not-linked' });
      expect(await readLedger(pool, TEST_KEYS, { account: demo.approvedCard })).to.deep.equal({ kind: 'not-linked' });
    });

    it('stores no PAN or account number in clear in any column of any table', async () => {
      const secrets = [...DEMO_PARTICIPANTS.flatMap((p) => [...p.cards, ...p.accounts]), DEMO_UNLINKED_CARD];
      const { rows: columns } = await pool.query<{ schema: string; table: string; column: string; type: string }>(`
        SELECT c.table_schema AS schema, c.table_name AS table, c.column_name AS column, c.data_type AS type
          FROM information_schema.columns c
          JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE t.table_type = 'BASE TABLE'
           AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
           AND c.data_type IN ('text', 'character varying', 'character', 'bytea', 'json', 'jsonb')`);
      expect(columns.map((c) => c.table)).to.include.members(['participant', 'instrument_link', 'jht_posting']);
      for (const c of columns) {
        const column = `${pg.escapeIdentifier(c.schema)}.${pg.escapeIdentifier(c.table)}.${pg.escapeIdentifier(c.column)}`;
        const from = `${pg.escapeIdentifier(c.schema)}.${pg.escapeIdentifier(c.table)}`;
        // bytea: the digits as ASCII, and packed two per byte (a BCD / binary-profile message).
        const condition = c.type === 'bytea'
          ? `position(convert_to($1, 'UTF8') IN ${column}) > 0 OR position(decode($1, 'hex') IN ${column}) > 0`
          : `position($1 IN ${column}::text) > 0`;
        for (const secret of secrets) {
          const { rows } = await pool.query(`SELECT 1 FROM ${from} WHERE ${condition} LIMIT 1`, [secret]);
          expect(rows, `${c.table}.${c.column} holds a clear PAN/account ending ${lastFour(secret)}`).to.have.length(0);
        }
      }
    });
  });

  describe('postings and balance', () => {
    let client: PoolClient;
    // Everything here runs in a transaction that is rolled back: the shared demo data stays untouched.
    beforeEach(async () => {
      client = await pool.connect();
      await client.query('BEGIN');
    });
    afterEach(async () => {
      await client.query('ROLLBACK');
      client.release();
    });

    it('keeps every balance equal to the sum of its postings, as of the last value date', async () => {
      const { rows: drift } = await client.query('SELECT * FROM jht_balance_drift');
      expect(drift).to.deep.equal([]);
      const { rows } = await client.query<{ kpj_number: string; balance_sen: bigint; as_of: string }>(`
        SELECT p.kpj_number, b.balance_sen, b.as_of
          FROM participant p JOIN jht_balance b ON b.participant_id = p.id
         WHERE p.kpj_number = ANY($1)`, [DEMO_PARTICIPANTS.map((p) => p.kpj)]);
      for (const participant of DEMO_PARTICIPANTS) {
        const row = rows.find((r) => r.kpj_number === participant.kpj);
        expect(row).to.deep.equal({ kpj_number: participant.kpj, balance_sen: participant.balanceSen, as_of: DEMO_AS_OF });
      }
    });

    it('updates balance and as-of when a posting is inserted', async () => {
      const id = await newParticipant(client);
      await post(client, id, 'CONTRIBUTION', 9_007_199_254_740_993n, '2027-01-31'); // above 2^53: no float
      await post(client, id, 'DEVELOPMENT', 7n, '2026-12-31'); // an older value date leaves as_of alone
      expect(await balanceOf(client, id)).to.deep.equal({ balance_sen: 9_007_199_254_741_000n, as_of: '2027-01-31' });
      await post(client, id, 'CORRECTION', -1_000n, '2027-02-28');
      expect(await balanceOf(client, id)).to.deep.equal({ balance_sen: 9_007_199_254_740_000n, as_of: '2027-02-28' });
    });

    it('refuses UPDATE, DELETE and TRUNCATE on postings (JH001)', async () => {
      for (const sql of ['UPDATE jht_posting SET amount_sen = amount_sen + 1', 'DELETE FROM jht_posting', 'TRUNCATE jht_posting']) {
        await expectSqlState(client, sql, 'JH001');
      }
    });

    it('refuses writes to jht_balance that do not come from a posting (JH002)', async () => {
      await expectSqlState(client, 'UPDATE jht_balance SET balance_sen = 0', 'JH002');
      await expectSqlState(client, 'DELETE FROM jht_balance', 'JH002');
      await expectSqlState(client, `INSERT INTO jht_balance (participant_id, balance_sen) VALUES (${await newParticipant(client)} + 1000000, 0)`, 'JH002');
    });

    // Migration 015 dropped jht_posting's foreign key: the balance trigger and jht_balance's own key keep the guarantee.
    it('refuses a posting of a participant that does not exist (JH003), and deleting a participant', async () => {
      const id = await newParticipant(client);
      await expectSqlState(client, "INSERT INTO jht_posting (participant_id, kind, amount_sen, value_date, source_ref) " +
        `VALUES (${id} + 1000000, 'CONTRIBUTION', 100, '2027-01-31', 'TEST:nobody')`, 'JH003');
      await post(client, id, 'CONTRIBUTION', 100n, '2027-01-31');
      await expectSqlState(client, `DELETE FROM participant WHERE id = ${id}`, '23503');
    });

    it('refuses a claim larger than the balance', async () => {
      const id = await newParticipant(client);
      await post(client, id, 'CONTRIBUTION', 100n, '2027-01-31');
      await expectSqlState(client, "INSERT INTO jht_posting (participant_id, kind, amount_sen, value_date, source_ref) " +
        `VALUES (${id}, 'CLAIM', -101, '2027-02-01', 'TEST:claim')`, '23514');
    });
  });
});

function scratchPool(pool: Pool, database: string): Pool {
  const { options } = pool;
  let scratch: Pool;
  if (options.connectionString) {
    const url = new URL(options.connectionString);
    url.pathname = `/${database}`;
    scratch = new pg.Pool({ connectionString: url.toString(), max: 1 });
  } else {
    scratch = new pg.Pool({ host: options.host, port: options.port, user: options.user, password: options.password, database, max: 1 });
  }
  // DROP DATABASE ... WITH (FORCE) may terminate a connection pool.end() is still closing.
  scratch.on('error', () => undefined);
  return scratch;
}

async function newParticipant(client: PoolClient): Promise<bigint> {
  const kpj = `19${randomBytes(8).readBigUInt64BE().toString().padStart(9, '0').slice(-9)}`;
  const { rows } = await client.query<{ id: bigint }>(
    "INSERT INTO participant (kpj_number, name) VALUES ($1, 'TEST PARTICIPANT') RETURNING id", [kpj],
  );
  return rows[0]!.id;
}

async function post(client: PoolClient, participantId: bigint, kind: string, amountSen: bigint, valueDate: string): Promise<void> {
  await client.query(
    'INSERT INTO jht_posting (participant_id, kind, amount_sen, value_date, source_ref) VALUES ($1, $2, $3, $4, $5)',
    [participantId, kind, amountSen, valueDate, `TEST:${randomBytes(8).toString('hex')}`],
  );
}

async function balanceOf(client: PoolClient, participantId: bigint): Promise<unknown> {
  const { rows } = await client.query('SELECT balance_sen, as_of FROM jht_balance WHERE participant_id = $1', [participantId]);
  return rows[0];
}

/** Runs `sql` inside a savepoint and expects it to fail with `sqlState`; the transaction stays usable. */
async function expectSqlState(client: PoolClient, sql: string, sqlState: string): Promise<void> {
  await client.query('SAVEPOINT attempt');
  await expectThrows(() => client.query(sql), pg.DatabaseError, sqlState);
  await client.query('ROLLBACK TO SAVEPOINT attempt');
}
