import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { accountNumber, dataKeyUsage, retireDataKey } from '../../../src/ledger/index.js';
import { DataKey, KeyRing } from '../../../src/security/keys/index.js';
import { clearIdentifiers } from '../../support/index.js';
import { importFixture, type ImportFixture } from './import-fixture.js';

/** A rotation window in the importer (SECURITY.md, "Key rotation"): what is found under the previous key is rekeyed in place. */

const PARTICIPANTS = `kpj,nik,name,status,msisdn,email
13000000001,3171234567890001,BUDI,ACTIVE,081234567890,budi@example.co.id
13000000002,,SITI,ACTIVE,+6281234567891,
13000000003,,AGUS,ACTIVE,,
`;
const CARDS = ['4111111111111111', '5500000000000004'];
const LINKS = `kind,number,kpj,status
CARD,${CARDS[0]},13000000001,ACTIVE
CARD,${CARDS[1]},13000000002,BLOCKED
ACCOUNT,  0012345678 ,13000000003,ACTIVE
`;
const NUMBERS = [['CARD', CARDS[0]!], ['CARD', CARDS[1]!], ['ACCOUNT', accountNumber('  0012345678 ')]] as const;

describe('ledger/import: a rotation window rekeys links and contacts in place', function () {
  this.timeout(60_000);
  const a = new DataKey(randomBytes(32));
  const b = new DataKey(randomBytes(32));
  const underA = new KeyRing({ current: a });
  const rotating = new KeyRing({ current: b, previous: a });
  let fx: ImportFixture;
  before(async () => {
    fx = await importFixture();
    await fx.load('participants', PARTICIPANTS, { keys: underA });
    await fx.load('links', LINKS, { keys: underA });
  });
  after(() => fx?.drop());

  const links = async (): Promise<{ id: string; kind: string; hash: Buffer; key_id: string; link_status: string }[]> =>
    (await fx.admin.query('SELECT id::text, kind, instrument_hash AS hash, key_id, link_status FROM instrument_link ORDER BY id')).rows;

  it('participants.csv again under {current B, previous A}: every NIK, MSISDN and e-mail under B, counted as rekeyed, not updated', async () => {
    expect(await fx.load('participants', PARTICIPANTS, { keys: rotating })).to.include({ rows: 3, rekeyed: 2, updated: 0, inserted: 0, unchanged: 3 });
    const { rows } = await fx.admin.query<Record<string, Buffer | string | null>>(
      'SELECT kpj_number, nik_hash, nik_key_id, msisdn_hash, msisdn_key_id, email_hash, email_key_id FROM participant ORDER BY kpj_number');
    expect(rows.map((r) => [r.nik_key_id, r.msisdn_key_id, r.email_key_id])).to.deep.equal([[b.id, b.id, b.id], [null, b.id, null], [null, null, null]]);
    expect(rows[0]!.nik_hash).to.deep.equal(b.hmac('contact', '3171234567890001'));
    expect(rows[0]!.msisdn_hash).to.deep.equal(b.hmac('contact', '6281234567890'));
    expect(rows[1]!.msisdn_hash).to.deep.equal(b.hmac('contact', '6281234567891'));
  });

  it('links.csv again under {current B, previous A}: every link moved to B in place, no second link, and A can retire', async () => {
    const before = await links();
    expect(before.map((l) => l.key_id)).to.deep.equal([a.id, a.id, a.id]);
    const summary = await fx.load('links', LINKS, { keys: rotating });
    expect(summary).to.include({ rows: 3, rekeyed: 3, inserted: 0, updated: 0, removed: 0, unchanged: 3 });
    expect(summary.moves).to.deep.equal([]);
    const after = await links();
    expect(after.map((l) => [l.id, l.kind, l.link_status]), 'same rows: ids, kinds, statuses').to.deep.equal(before.map((l) => [l.id, l.kind, l.link_status]));
    expect(after.map((l) => l.key_id)).to.deep.equal([b.id, b.id, b.id]);
    expect(after.map((l) => l.hash)).to.deep.equal(NUMBERS.map(([, number]) => b.hmac('instrument', number)));
    expect((await dataKeyUsage(fx.admin)).find((k) => k.keyId === a.id)?.links).to.equal(0);
    expect(await retireDataKey(fx.importer, a.id, { uid: 4242, sudoUid: '1001' })).to.equal(true);
    const { rows } = await fx.admin.query<{ operator_uid: number; sudo_uid: string | null }>('SELECT operator_uid, sudo_uid FROM data_key_retirement WHERE key_id = $1', [a.id]);
    expect(rows, 'the retirement, journaled with the operator').to.deep.equal([{ operator_uid: 4242, sudo_uid: '1001' }]);
  });

  it('the same files a third time change nothing and rekey nothing', async () => {
    expect(await fx.load('participants', PARTICIPANTS, { keys: rotating })).to.include({ rekeyed: 0, updated: 0, unchanged: 3 });
    expect(await fx.load('links', LINKS, { keys: rotating })).to.include({ rekeyed: 0, updated: 0, inserted: 0, unchanged: 3 });
    expect(await fx.count('instrument_link')).to.equal(3);
  });

  it('a link a build before this one added a second time under the new key: the dead one under the old key is removed', async () => {
    const c = new DataKey(randomBytes(32));
    // What an import under {C} alone did during the rotation B → C: a second link of the same card, under C.
    await fx.load('links', `kind,number,kpj,status\nCARD,${CARDS[0]},13000000001,ACTIVE\n`, { keys: new KeyRing({ current: c }) });
    expect(await fx.count('instrument_link')).to.equal(4);
    expect(await fx.load('links', LINKS, { keys: new KeyRing({ current: c, previous: b }) })).to.include({ rekeyed: 3, inserted: 0 });
    const after = await links();
    expect(after.map((l) => l.key_id)).to.deep.equal([c.id, c.id, c.id]);
    expect((await dataKeyUsage(fx.admin)).find((k) => k.keyId === b.id)?.links).to.equal(0);
  });

  it('no clear number or contact reached any table', async () => {
    const { rows: tables } = await fx.admin.query<{ name: string }>(
      "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'");
    for (const { name } of tables) {
      const { rows } = await fx.admin.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
      for (const { row } of rows) expect(clearIdentifiers(row), `${name}: ${row}`).to.deep.equal([]);
    }
  });
});
