import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import pg from 'pg';
import type { Pool } from 'pg';
import { fileURLToPath } from 'node:url';
import { balanceInquiry, networkRequest } from '../../src/client/atm-messages.js';
import { IsoClient } from '../../src/client/iso-client.js';
import { switchConfigSchema } from '../../src/config/schema.js';
import { IdempotencyStore } from '../../src/inquiry/index.js';
import { JournalWriter } from '../../src/journal/index.js';
import type { DatabaseHandle } from '../../src/ledger/index.js';
import { DUTY_ROLES, OWNER_ROLE, SWITCH_ROLE, ensureLoginUser } from '../../src/ledger/roles.js';
import { silentLogger } from '../../src/observability/logger.js';
import { startSwitch } from '../../src/channels/atm/jht-switch.js';
import { TEST_KEYS, connectAsRole, getTestDatabase } from '../support/database.js';
import { uniqueStan } from '../support/switch-harness.js';

const SECURITY_MD = fileURLToPath(new URL('../../SECURITY.md', import.meta.url));
const TABLE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] as const;
/** PostgreSQL 17 added MAINTAIN (VACUUM, ANALYZE, REFRESH ...). */
const MAINTAIN_SINCE = 170000;
const SEQUENCE_PRIVILEGES = ['USAGE', 'SELECT', 'UPDATE'] as const;
/** The privileges PostgreSQL can also grant on single columns. */
const COLUMN_PRIVILEGES: readonly string[] = ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'];

type Matrix = Map<string, Map<string, string>>;

/** The role × relation table of SECURITY.md's "Database roles" section, cells normalised. */
async function documentedMatrix(): Promise<Matrix> {
  const text = await readFile(SECURITY_MD, 'utf8');
  const section = text.slice(text.indexOf('<!-- database-roles -->'));
  const lines = section.split('\n');
  const header = lines.findIndex((line) => line.startsWith('| relation |'));
  const roles = cells(lines[header]!).slice(1);
  const matrix: Matrix = new Map();
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const [relation, ...privileges] = cells(line);
    const name = /`([a-z_0-9*]+)`/.exec(relation!)?.[1];
    if (!name) throw new Error(`SECURITY.md: no relation name in ${line}`);
    matrix.set(name, new Map(roles.map((role, i) => [role, normalise(privileges[i] ?? '')])));
  }
  return matrix;
}

function cells(line: string): string[] {
  return line.split('|').slice(1, -1).map((cell) => cell.trim());
}

/** "SELECT, UPDATE (b, a)" and "UPDATE (a, b), SELECT" are the same cell; "—" is no privilege. */
function normalise(cell: string): string {
  if (cell === '—' || cell === '') return '—';
  if (cell === 'owner') return cell;
  const items = cell.match(/[A-Z]+(?: \([a-z_0-9, ]+\))?/g) ?? [];
  return items.map((item) => item.replace(/\(([^)]*)\)/, (_, cols: string) => `(${cols.split(',').map((c) => c.trim()).sort().join(', ')})`))
    .sort().join(', ');
}

/** The same matrix, read from the database's catalogue. */
async function actualMatrix(pool: Pool): Promise<Matrix> {
  // A partition (the journal's monthly ones, migration 010) is documented once, as `<parent>_*`.
  const { rows: relations } = await pool.query<{ name: string; kind: string; owner: string; parent: string | null }>(`
    SELECT c.relname AS name, c.relkind::text AS kind, pg_get_userbyid(c.relowner) AS owner,
           (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid) AS parent
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')`);
  const { rows: [server] } = await pool.query<{ version: number }>("SELECT current_setting('server_version_num')::int AS version");
  const tablePrivileges: string[] = [...TABLE_PRIVILEGES, ...(server!.version >= MAINTAIN_SINCE ? ['MAINTAIN'] : [])];
  const matrix: Matrix = new Map();
  for (const relation of relations) {
    const row = new Map<string, string>();
    for (const role of DUTY_ROLES) {
      if (relation.owner === role) {
        row.set(role, 'owner');
        continue;
      }
      const granted: string[] = [];
      const isSequence = relation.kind === 'S';
      for (const privilege of isSequence ? SEQUENCE_PRIVILEGES : tablePrivileges) {
        const { rows: [check] } = await pool.query<{ table: boolean; columns: string[] | null }>(
          isSequence
            ? 'SELECT has_sequence_privilege($1, $2, $3) AS table, NULL AS columns'
            : !COLUMN_PRIVILEGES.includes(privilege)
              ? 'SELECT has_table_privilege($1, $2, $3) AS table, NULL AS columns'
              : `SELECT has_table_privilege($1, $2, $3) AS table,
                      (SELECT array_agg(attname::text ORDER BY attname) FROM pg_attribute
                        WHERE attrelid = $2::regclass AND attnum > 0 AND NOT attisdropped
                          AND has_column_privilege($1, $2, attname, $3)) AS columns`,
          [role, `public.${relation.name}`, privilege]);
        if (check!.table) granted.push(privilege);
        else if (check!.columns?.length) granted.push(`${privilege} (${check!.columns.join(', ')})`);
      }
      row.set(role, normalise(granted.join(', ')));
    }
    const name = relation.parent ? `${relation.parent}_*` : relation.name;
    const other = matrix.get(name);
    if (other && JSON.stringify([...other]) !== JSON.stringify([...row])) {
      for (const role of DUTY_ROLES) row.set(role, `partitions of ${relation.parent} differ`);
    }
    matrix.set(name, row);
  }
  return matrix;
}

/** The SQLSTATE a statement fails with, or 'succeeded'. Each runs in a rolled-back transaction. */
async function failureOf(pool: Pool, sql: string): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query(sql);
      return 'succeeded';
    } catch (error) {
      return String((error as { code?: unknown }).code);
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

describe('ledger: database roles by duty (migration 007, SECURITY.md)', function () {
  this.timeout(30_000);
  let superuser: Pool;
  let asSwitch: Pool;

  before(async () => {
    superuser = (await getTestDatabase()).pool;
    asSwitch = await connectAsRole(SWITCH_ROLE);
  });
  after(async () => asSwitch?.end());

  it('every relation of the schema has a row in SECURITY.md, and every row is a relation', async () => {
    const documented = [...(await documentedMatrix()).keys()].sort();
    const actual = [...(await actualMatrix(superuser)).keys()].sort();
    expect(actual, 'a table without a row in SECURITY.md (and, surely, without grants)').to.deep.equal(documented);
  });

  it("each role's privileges are exactly SECURITY.md's table", async () => {
    const documented = await documentedMatrix();
    const actual = await actualMatrix(superuser);
    for (const [relation, roles] of actual) {
      for (const role of DUTY_ROLES) {
        expect(roles.get(role), `${role} on ${relation}`).to.equal(documented.get(relation)?.get(role));
      }
    }
  });

  it("the journal's partition functions run for the owner only, but journal_ensure_partitions() for the switch too", async () => {
    const functions = ['journal_partition_bounds()', 'journal_create_partitions(date, integer)', 'journal_ensure_partitions()'];
    for (const fn of functions) {
      for (const role of [...DUTY_ROLES, 'public']) {
        const { rows: [check] } = await superuser.query<{ may: boolean }>(
          role === 'public'
            ? `SELECT coalesce(bool_or(a.grantee = 0), false) AS may FROM pg_proc p, aclexplode(p.proacl) a WHERE p.oid = $1::regprocedure`
            : 'SELECT has_function_privilege($2, $1, \'EXECUTE\') AS may', role === 'public' ? [fn] : [fn, role]);
        const expected = role === OWNER_ROLE || (role === SWITCH_ROLE && fn === 'journal_ensure_partitions()');
        expect(check!.may, `${role} EXECUTE ${fn}`).to.equal(expected);
      }
    }
  });

  it("the switch's login is not a superuser, may not create roles or databases, and is not the owner", async () => {
    const { rows: [me] } = await asSwitch.query<{ rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; owner: boolean }>(
      `SELECT rolsuper, rolcreaterole, rolcreatedb, pg_has_role(current_user, '${OWNER_ROLE}', 'MEMBER') AS owner
         FROM pg_roles WHERE rolname = current_user`);
    expect(me).to.deep.equal({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, owner: false });
  });

  const refused: Array<[string, string]> = [
    ['UPDATE on postings', 'UPDATE jht_posting SET amount_sen = amount_sen + 1'],
    ['DELETE on postings', 'DELETE FROM jht_posting'],
    ['DISABLE TRIGGER on postings', 'ALTER TABLE jht_posting DISABLE TRIGGER jht_posting_append_only'],
    ['ALTER TABLE', 'ALTER TABLE journal ADD COLUMN note text'],
    ['CREATE TABLE', 'CREATE TABLE shadow (x int)'],
    ['CREATE TEMP TABLE', 'CREATE TEMP TABLE shadow (x int)'],
    ['CREATE FUNCTION', 'CREATE FUNCTION shadow() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$'],
    ['CREATE SCHEMA', 'CREATE SCHEMA shadow'],
    ['SET session_replication_role', 'SET session_replication_role = replica'],
    ['pg_read_binary_file', "SELECT pg_read_binary_file('/proc/1/environ')"],
    ['COPY … PROGRAM', "COPY (SELECT 1) TO PROGRAM 'true'"],
    ['writing jht_balance', 'UPDATE jht_balance SET balance_sen = 0'],
    ['INSERT into postings', "INSERT INTO jht_posting (participant_id, kind, amount_sen, value_date, source_ref) SELECT id, 'CORRECTION', 1, now(), 'x' FROM participant LIMIT 1"],
  ];
  for (const [what, sql] of refused) {
    it(`the switch's role is refused: ${what}`, async () => {
      // 42501 insufficient_privilege: refused for want of the privilege, before any trigger could run.
      expect(await failureOf(asSwitch, sql)).to.equal('42501');
    });
  }

  it("a login's password reaches the server only as a SCRAM verifier, and logs in", async () => {
    const password = 'roles-test-password-0123456789';
    const statements: string[] = [];
    const recording = { query: (text: string, values?: unknown[]) => (statements.push(text), superuser.query(text, values)) };
    await ensureLoginUser(recording as unknown as Pool, 'jht_scram_test', 'jht_support', password);
    expect(statements.join('\n')).not.to.include(password);
    expect(statements.join('\n')).to.match(/PASSWORD 'SCRAM-SHA-256\$4096:/);
    const { options } = superuser;
    const client = new pg.Client({ host: options.host, port: options.port, database: options.database, user: 'jht_scram_test', password });
    await client.connect();
    await client.end();
  });

  it('the triggers still guard the ledger for the owner (the refusals above are privileges, not triggers)', async () => {
    expect(await failureOf(superuser, 'UPDATE jht_posting SET amount_sen = amount_sen + 1')).to.equal('JH001');
  });
});

describe('ledger: the importer and support roles can do their duty', function () {
  this.timeout(30_000);

  it("the importer's role loads a participant, a link and postings (the balance follows), and cannot delete", async () => {
    const importer = await connectAsRole('jht_importer');
    try {
      const kpj = `19${String(Date.now()).slice(-9)}`;
      const { rows: [participant] } = await importer.query<{ id: bigint }>(
        "INSERT INTO participant (kpj_number, name) VALUES ($1, 'IMPORTED PERSON') RETURNING id", [kpj]);
      await importer.query(
        "INSERT INTO instrument_link (kind, instrument_hash, key_id, last4, participant_id) VALUES ('CARD', $1, $2, '9999', $3)",
        [Buffer.alloc(32, Number(kpj.slice(-2))), TEST_KEYS.current.id, participant!.id]);
      await importer.query(
        "INSERT INTO jht_posting (participant_id, kind, amount_sen, value_date, source_ref) VALUES ($1, 'CONTRIBUTION', 500, '2026-11-01', $2)",
        [participant!.id, `roles-test-${kpj}`]);
      const { rows: [balance] } = await importer.query<{ balance_sen: bigint }>(
        'SELECT balance_sen FROM jht_balance WHERE participant_id = $1', [participant!.id]);
      expect(balance?.balance_sen).to.equal(500n);
      expect(await failureOf(importer, 'DELETE FROM participant WHERE false')).to.equal('42501');
      expect(await failureOf(importer, 'SELECT 1 FROM journal')).to.equal('42501');
    } finally {
      await importer.end();
    }
  });

  it('the support role reads every table and writes none', async () => {
    const support = await connectAsRole('jht_support');
    try {
      for (const table of ['participant', 'jht_posting', 'journal', 'inquiry_key', 'jht_balance_drift']) {
        expect(await failureOf(support, `SELECT 1 FROM ${table} LIMIT 1`), table).to.equal('succeeded');
      }
      expect(await failureOf(support, "INSERT INTO journal (kind, received_at, instance_id) VALUES ('x', now(), 'x')")).to.equal('42501');
      expect(await failureOf(support, 'DELETE FROM inquiry_key WHERE false')).to.equal('42501');
    } finally {
      await support.end();
    }
  });
});

describe('ledger: the switch runs on the jht_switch grants alone', function () {
  this.timeout(60_000);

  it('a switch logged in as jht_switch serves every path of the contract: claim, answer, replay, duplicate, reversal, journal, prune', async () => {
    const db = await getTestDatabase();
    const pool = await connectAsRole(SWITCH_ROLE, { max: 4 });
    const database: DatabaseHandle = { ...db, pool, stop: () => pool.end() };
    const config = switchConfigSchema.parse({ listen: { host: '127.0.0.1', port: 0 }, database: { poolSize: 2 } });
    const running = await startSwitch(config, silentLogger(), { database });
    const atm = await IsoClient.connect({ port: running.listener.port, timeoutMs: 5_000 });
    try {
      expect((await atm.request(networkRequest(uniqueStan(), '001'))).get(39)).to.equal('00');
      const request = balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMROLE1', pan: '6040990000000001' });
      expect((await atm.request(request)).get(39)).to.equal('00');
      expect((await atm.request(request)).get(54), 'a retransmission gets the stored answer').to.be.a('string');
      expect((await atm.request(request.clone().set(2, '6040990000000019'))).get(39), 'duplicate').to.equal('94');
      const advice = balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMROLE1', pan: '6040990000000001' });
      advice.mti = '0420';
      advice.set(90, '0200' + request.get(11)! + request.get(7)! + '00000099901' + '00000000000');
      expect((await atm.request(advice)).get(39), 'reversal').to.equal('00');
      await running.journal.flush();

      // A key older than the retention, written by the owner, is pruned by the switch's role.
      const { rows: [old] } = await db.pool.query<{ id: bigint }>(
        `INSERT INTO inquiry_key (channel, requester, idem_key, request_digest, request_type, instance_id, created_at)
         VALUES ('atm', '99901/ATMROLE1', $1 || '/0101000000', $2, '0200', 'roles-test', now() - interval '4 days') RETURNING id`,
        [uniqueStan(), Buffer.alloc(32)]);
      expect(await running.transactionKeys.pruneCreatedBefore(new Date(Date.now() - 3 * 86_400_000))).to.be.at.least(1);
      expect((await db.pool.query('SELECT 1 FROM inquiry_key WHERE id = $1', [old!.id])).rowCount).to.equal(0);

      const { rows: journal } = await db.pool.query<{ kind: string }>(
        "SELECT kind FROM journal WHERE terminal_id = 'ATMROLE1' AND stan IN ($1, $2) ORDER BY id", [request.get(11), advice.get(11)]);
      expect(journal.map((row) => row.kind)).to.include.members(['request', 'retransmission', 'duplicate', 'reversal']);
      const { rows: [mark] } = await db.pool.query<{ reversed: boolean }>(
        "SELECT reversed_at IS NOT NULL AS reversed FROM inquiry_key WHERE requester = '99901/ATMROLE1' AND idem_key = $1", [`${request.get(11)}/${request.get(7)}`]);
      expect(mark?.reversed).to.equal(true);
    } finally {
      await atm.close();
      await running.stop();
      await pool.end();
    }
  });
});

describe('ledger: the inquiry core runs on the jht_switch grants alone (migration 009)', function () {
  this.timeout(30_000);

  it('claims a channel key, journals and stores the outcome, replays it, releases an undecided key, prunes', async () => {
    const pool = await connectAsRole(SWITCH_ROLE);
    try {
      const keys = new IdempotencyStore(pool, { instanceId: 'roles-test' });
      const journal = new JournalWriter(pool, { instanceId: 'roles-test', logger: silentLogger() });
      const digest = Buffer.alloc(32, 7);
      // No long digit run: the switch's hygiene test scans the journal for Luhn-valid numbers.
      const key = `roles-${randomUUID()}`;
      const claim = await keys.claim('counter', 'roles-client', key, digest);
      expect(claim.kind).to.equal('new');
      const now = new Date();
      await journal.commit({
        kind: 'request', channel: 'counter', requester: 'roles-client/staff:1', maskedKpj: '*******0001', outcome: 'not-found',
        reasonCode: 'AUDIT', ticketId: 'T-1', reference: `ref-${key}`, inquiryKeyId: claim.id, receivedAt: now, respondedAt: now, latencyMicros: 10,
      }, { inquiryKeyId: claim.id, outcome: 'not-found', body: { kind: 'refused', refusal: 'not-found', reference: `ref-${key}` } });
      expect(await keys.claim('counter', 'roles-client', key, digest)).to.deep.include({ kind: 'replay' });
      const undecided = await keys.claim('counter', 'roles-client', `${key}-2`, digest);
      await keys.release(undecided.id);
      expect((await keys.claim('counter', 'roles-client', `${key}-2`, digest)).kind, 'released, so new again').to.equal('new');
      expect(await keys.pruneCreatedBefore(['counter'], new Date(Date.now() + 60_000))).to.be.at.least(2);
    } finally {
      await pool.end();
    }
  });
});
