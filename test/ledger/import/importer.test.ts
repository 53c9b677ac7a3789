import { expect } from 'chai';
import { accountNumber, instrumentHash } from '../../../src/ledger/index.js';
import { readParticipant } from '../../../src/ledger/participant-view.js';
import { normaliseMsisdn } from '../../../src/contacts/index.js';
import { clearIdentifiers, TEST_KEYS } from '../../support/index.js';
import { useImportFixture } from './import-fixture.js';

const PARTICIPANTS = `kpj,nik,name,status,msisdn,email
13000000001,3171234567890001,"BUDI SANTOSO, S.E.",ACTIVE,081234567890,Budi.Santoso@Example.co.id
13000000002,,"SITI RAHAYU",ACTIVE,+6281234567891,
13000000003,3171234567890003,AGUS,BLOCKED,6281234567892,agus@example.co.id
`;
const LINKS = `kind,number,kpj,status,issuer
CARD,4111111111111111,13000000001,ACTIVE,bank-a
CARD,5500000000000004,13000000002,ACTIVE,
ACCOUNT,  0012345678 ,13000000002,ACTIVE,bank-a
`;
const POSTINGS = `source_ref,kpj,kind,amount_sen,value_date
O1,13000000001,OPENING,150000000,2026-10-31
O2,13000000002,OPENING,0,2026-10-31
C1,13000000002,CONTRIBUTION,250000,2026-11-30
`;
const CLEAR_VALUES = ['3171234567890001', '081234567890', '6281234567890', 'budi.santoso@example.co.id', 'Budi.Santoso@Example.co.id',
  '4111111111111111', '5500000000000004', '0012345678'];

describe('ledger/import: participants, links and postings files (specs/DATA-FILES.md)', function () {
  this.timeout(60_000);
  const fx = useImportFixture();

  it('imports the three files as the importer role, with contacts hashed and masked, and a quoted name with a comma', async () => {
    expect(await fx.load('participants', PARTICIPANTS)).to.include({ rows: 3, inserted: 3, updated: 0, unchanged: 0 });
    expect(await fx.load('links', LINKS)).to.include({ rows: 3, inserted: 3 });
    expect(await fx.load('postings', POSTINGS)).to.include({ rows: 3, inserted: 2, unchanged: 1 });
    const budi = await readParticipant(fx.admin, '13000000001');
    expect(budi).to.deep.include({ name: 'BUDI SANTOSO, S.E.', nikLast4: '0001', msisdnLast4: '7890', emailMasked: 'b***@example.co.id', balanceSen: 150000000n, asOf: '2026-10-31' });
    expect(budi!.links).to.deep.equal([{ kind: 'CARD', last4: '1111', status: 'ACTIVE', issuer: 'bank-a', keyId: TEST_KEYS.current.id }]);
    const siti = await readParticipant(fx.admin, '13000000002');
    expect(siti).to.deep.include({ name: 'SITI RAHAYU', nikLast4: null, emailMasked: null, balanceSen: 250000n, asOf: '2026-11-30' });
    const { rows } = await fx.admin.query<{ msisdn_hash: Buffer }>("SELECT msisdn_hash FROM participant WHERE kpj_number = '13000000001'");
    expect(rows[0]!.msisdn_hash).to.deep.equal(TEST_KEYS.current.hmac('contact', '6281234567890'));
    const { rows: [drift] } = await fx.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM jht_balance_drift');
    expect(drift!.n).to.equal(0);
    const { rows: [marker] } = await fx.admin.query<{ kind: string }>('SELECT kind FROM deployment');
    expect(marker!.kind, 'an import clears the demo marker').to.equal('real');
  });

  it('loading the same files again changes nothing', async () => {
    for (const [kind, csv] of [['participants', PARTICIPANTS], ['links', LINKS], ['postings', POSTINGS]] as const) {
      const summary = await fx.load(kind, csv);
      expect(summary, kind).to.include({ inserted: 0, updated: 0, removed: 0, unchanged: 3 });
      expect(summary.moves, kind).to.deep.equal([]);
    }
  });

  it('an absent column is left unchanged, a blank value clears it', async () => {
    expect(await fx.load('participants', 'kpj,email\n13000000001,\n')).to.include({ updated: 1 });
    const budi = await readParticipant(fx.admin, '13000000001');
    expect(budi).to.deep.include({ emailMasked: null, msisdnLast4: '7890', nikLast4: '0001', name: 'BUDI SANTOSO, S.E.' });
  });

  it('a card moved to another participant is moved and listed; REMOVED deletes a link', async () => {
    const summary = await fx.load('links', 'kind,number,kpj,status\nCARD,4111111111111111,13000000003,ACTIVE\nACCOUNT,0012345678,,REMOVED\n');
    expect(summary).to.include({ updated: 1, removed: 1 });
    expect(summary.moves).to.deep.equal([{ line: 2, kind: 'CARD', last4: '1111', from: '13000000001', to: '13000000003' }]);
    expect((await readParticipant(fx.admin, '13000000003'))!.links.map((l) => l.last4)).to.deep.equal(['1111']);
    expect((await readParticipant(fx.admin, '13000000002'))!.links.map((l) => l.kind)).to.deep.equal(['CARD']);
  });

  it('an account number is keyed as the ATM path keys field 102: padding spaces removed, leading zeros kept', async () => {
    await fx.load('links', 'kind,number,kpj,status\nACCOUNT, 0012345678  ,13000000002,ACTIVE\n');
    const { rows } = await fx.admin.query<{ instrument_hash: Buffer }>("SELECT instrument_hash FROM instrument_link WHERE kind = 'ACCOUNT'");
    expect(rows.map((r) => r.instrument_hash)).to.deep.equal([instrumentHash(TEST_KEYS.current, accountNumber('0012345678   '))]);
    expect(accountNumber('  0012345678 ')).to.equal('0012345678');
    expect(instrumentHash(TEST_KEYS.current, accountNumber('12345678'))).to.not.deep.equal(rows[0]!.instrument_hash);
  });

  it('the one MSISDN normaliser takes 08…, +62… and 62… to 62…', () => {
    for (const raw of ['081234567890', '+6281234567890', '6281234567890', ' 081234567890 ']) {
      expect(normaliseMsisdn(raw), raw).to.deep.equal({ ok: true, value: '6281234567890' });
    }
    expect(normaliseMsisdn('0212345678').ok).to.equal(false);
  });

  it('no clear card, account, NIK, MSISDN or e-mail is in any table', async () => {
    const { rows: tables } = await fx.admin.query<{ name: string }>(
      "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'");
    for (const { name } of tables) {
      const { rows } = await fx.admin.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
      for (const { row } of rows) {
        expect(clearIdentifiers(row), `${name}: ${row}`).to.deep.equal([]);
        for (const value of CLEAR_VALUES) expect(row.toLowerCase(), name).to.not.include(value.toLowerCase());
      }
    }
  });
});
