import { expect } from 'chai';
import { ImportError } from '../../../src/ledger/import/index.js';
import { FILE_KINDS, runImport } from '../../../src/ledger/import/index.js';
import { Readable } from 'node:stream';
import { TEST_KEYS } from '../../support/index.js';
import { useImportFixture } from './import-fixture.js';

/** The indexes and constraints of the ledger's tables, as PostgreSQL would re-create them. */
const SCHEMA_SQL = `
  SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL
  SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  ORDER BY 1`;

describe('ledger/import: --initial, the bulk first load', function () {
  this.timeout(60_000);
  const fx = useImportFixture();

  const initial = (kind: keyof typeof FILE_KINDS, csv: string): ReturnType<typeof runImport> =>
    runImport(fx.importer, { kind: FILE_KINDS[kind], input: Readable.from([csv]), fileName: kind, key: TEST_KEYS.current, initial: true });

  it('loads an empty ledger and leaves exactly the indexes and constraints of the migrations', async () => {
    const { rows: before } = await fx.admin.query<{ def: string }>(SCHEMA_SQL);
    const people = Array.from({ length: 50 }, (_, i) => `150000000${String(i).padStart(2, '0')},PERSON ${i},ACTIVE,0812000000${String(i).padStart(2, '0')}`);
    expect(await initial('participants', `kpj,name,status,msisdn\n${people.join('\n')}\n`)).to.include({ inserted: 50 });
    expect(await initial('links', 'kind,number,kpj,status\nCARD,4111111111111111,15000000001,ACTIVE\n')).to.include({ inserted: 1 });
    expect(await initial('postings', 'source_ref,kpj,kind,amount_sen,value_date\nO,15000000001,OPENING,700,2026-10-31\n')).to.include({ inserted: 1 });
    const { rows: after } = await fx.admin.query<{ def: string }>(SCHEMA_SQL);
    expect(after.map((r) => r.def)).to.deep.equal(before.map((r) => r.def));
    const { rows: [balance] } = await fx.admin.query<{ balance_sen: bigint }>(
      "SELECT b.balance_sen FROM jht_balance b JOIN participant p ON p.id = b.participant_id WHERE p.kpj_number = '15000000001'");
    expect(BigInt(balance!.balance_sen)).to.equal(700n);
  });

  it('a transaction that began a bulk load and did not end it cannot commit: no index is lost', async () => {
    const { rows: before } = await fx.admin.query<{ def: string }>(SCHEMA_SQL);
    const client = await fx.importer.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT import_bulk_begin('links')");
      const refused = await client.query('COMMIT').then(() => undefined, (error: unknown) => error);
      expect(refused).to.have.property('code', 'JH005');
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
    const { rows: after } = await fx.admin.query<{ def: string }>(SCHEMA_SQL);
    expect(after.map((r) => r.def)).to.deep.equal(before.map((r) => r.def));
  });

  it('is refused once the ledger holds real rows of that file, and then nothing changes', async () => {
    const error = await initial('participants', 'kpj,name\n15000000099,LATE\n').then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ImportError).and.have.property('code', 'IMPORT_NOT_EMPTY');
    expect(await fx.count('participant')).to.equal(50);
  });
});

describe('ledger/import: --initial participants, inserted segment by segment while the file is read', function () {
  this.timeout(120_000);
  const fx = useImportFixture();

  /** Three segments (initial-segments.ts: 10 chunks of 2,000 rows) and a part of a fourth. */
  const ROWS = 65_000;
  const people = (rows: number): string[] => Array.from({ length: rows }, (_, i) => `17${String(i).padStart(9, '0')},PERSON ${i}`);
  const initial = (csv: string): ReturnType<typeof runImport> =>
    runImport(fx.importer, { kind: FILE_KINDS.participants, input: Readable.from([csv]), fileName: 'participants.csv', key: TEST_KEYS.current, initial: true });

  it('refuses the whole file for a KPJ repeated in a later segment, naming both lines, and inserts nothing', async () => {
    const error = await initial(`kpj,name\n${people(ROWS).join('\n')}\n17000000001,AGAIN\n`).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ImportError);
    expect((error as ImportError).rowErrors).to.deep.equal([{ line: ROWS + 2, column: 'kpj', reason: 'appears again (first on line 3)' }]);
    expect(await fx.count('participant')).to.equal(0);
    expect(await fx.count('jht_balance')).to.equal(0);
  });

  it('refuses the whole file for a bad row in its last segment, after the earlier segments were inserted', async () => {
    const error = await initial(`kpj,name\n${people(ROWS).join('\n')}\n1700000000X,BAD KPJ\n`).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ImportError);
    expect((error as ImportError).rowErrors).to.deep.equal([{ line: ROWS + 2, column: 'kpj', reason: 'not 11 digits' }]);
    expect(await fx.count('participant')).to.equal(0);
  });

  it('inserts every segment in the file order, each participant with its balance row', async () => {
    expect(await initial(`kpj,name\n${people(ROWS).join('\n')}\n`)).to.include({ rows: ROWS, inserted: ROWS, unchanged: 0 });
    const { rows } = await fx.admin.query<{ ordered: boolean; balances: number }>(`
      SELECT bool_and(kpj_number::bigint - 17000000000 = rank - 1) AS ordered, (SELECT count(*)::int FROM jht_balance) AS balances
        FROM (SELECT kpj_number, rank() OVER (ORDER BY id) FROM participant) p`);
    expect(rows[0]).to.deep.equal({ ordered: true, balances: ROWS });
  });
});
