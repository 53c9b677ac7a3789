import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import type { Pool } from 'pg';
import { balanceInquiry } from '../../../src/client/atm-messages.js';
import { registerDataKey } from '../../../src/ledger/data-keys.js';
import { FILE_KINDS, importInto, lockImports } from '../../../src/ledger/import/index.js';
import { changeLink, LinkBusyError } from '../../../src/ledger/link-change.js';
import { IMPORTER_ROLE } from '../../../src/ledger/roles.js';
import { parseAdditionalAmounts } from '../../../src/iso8583/vocabulary/index.js';
import { connectAsRole, expectThrows, sleep, startTestSwitch, TEST_KEYS, uniqueStan, type TestSwitch } from '../../support/index.js';

/**
 * Imports beside a serving switch, on the shared test database. These imports leave the demo marker alone
 * (importInto in a transaction of the test's own, as the demo seed does), so the other tests still see the demo.
 */
const KPJ = '14000000001';
const CARD = '4000000000000002';
const OTHERS = 2_000;
const operator = { uid: process.getuid?.() ?? -1, sudoUid: undefined };

async function importQuietly(pool: Pool, kind: keyof typeof FILE_KINDS, csv: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await lockImports(client);
    await registerDataKey(client, TEST_KEYS.current);
    await importInto(client, { kind: FILE_KINDS[kind], input: Readable.from([csv]), fileName: kind, key: TEST_KEYS.current });
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

describe('ledger/import: live beside the switch', function () {
  this.timeout(120_000);
  let importer: Pool;
  let sw: TestSwitch;
  const inquiry = (): ReturnType<typeof balanceInquiry> => balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMIMPRT', pan: CARD });

  before(async () => {
    importer = await connectAsRole(IMPORTER_ROLE, { statementTimeoutMs: 60_000 });
    const others = Array.from({ length: OTHERS }, (_, i) => `1400001${String(i).padStart(4, '0')},OTHER ${i},ACTIVE`);
    await importQuietly(importer, 'participants', `kpj,name,status\n${KPJ},LIVE TEST,ACTIVE\n${others.join('\n')}\n`);
    await importQuietly(importer, 'links', `kind,number,kpj,status\nCARD,${CARD},${KPJ},ACTIVE\n`);
    await importQuietly(importer, 'postings', `source_ref,kpj,kind,amount_sen,value_date\nLIVE-OPEN,${KPJ},OPENING,100000,2026-10-31\n`);
    // The test is about what an answer says, not how fast it comes on a loaded 2-core runner: no 91 for a slow lookup.
    sw = await startTestSwitch({ ledger: { timeoutMs: 10_000 } });
  });
  after(async () => {
    await sw?.stop();
    await importer?.end();
  });

  it('a block takes effect on the very next ATM inquiry (57), an unblock on the next one (00), both journaled with the uid', async () => {
    const atm = await sw.client();
    expect((await atm.request(inquiry())).get(39)).to.equal('00');
    expect(await changeLink(importer, TEST_KEYS, 'CARD', CARD, 'block', operator)).to.include({ from: 'ACTIVE', to: 'BLOCKED', last4: '0002' });
    expect((await atm.request(inquiry())).get(39)).to.equal('57');
    await changeLink(importer, TEST_KEYS, 'CARD', CARD, 'unblock', operator);
    expect((await atm.request(inquiry())).get(39)).to.equal('00');
    const { rows } = await importer.query<{ action: string; operator_uid: number }>(
      "SELECT action, operator_uid FROM link_change WHERE kpj_number = $1 ORDER BY id", [KPJ]);
    expect(rows).to.deep.equal([{ action: 'block', operator_uid: operator.uid }, { action: 'unblock', operator_uid: operator.uid }]);
  });

  it('a link change while an import holds the link waits a few seconds at most, then says so', async () => {
    const holder = await importer.connect();
    try {
      await holder.query('BEGIN');
      await importInto(holder, { kind: FILE_KINDS.links, input: Readable.from([`kind,number,kpj,status\nCARD,${CARD},${KPJ},BLOCKED\n`]), fileName: 'links', key: TEST_KEYS.current });
      const started = Date.now();
      await expectThrows(() => changeLink(importer, TEST_KEYS, 'CARD', CARD, 'block', operator), LinkBusyError);
      expect(Date.now() - started).to.be.within(2_500, 6_000);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it('an inquiry during an import sees the balance before the file or after it, never in between', async () => {
    const atm = await sw.client();
    const before = parseAdditionalAmounts((await atm.request(inquiry())).get(54)!)!.ledgerSen;
    const run = randomBytes(4).toString('hex');
    const mine = [1, 2, 3].map((i) => `LIVE-${run}-${i},${KPJ},CONTRIBUTION,1000,2026-11-30`);
    const theirs = Array.from({ length: 20_000 }, (_, i) => `LIVE-${run}-o${i},1400001${String(i % OTHERS).padStart(4, '0')},CONTRIBUTION,500,2026-11-30`);
    const rows = [mine[0], ...theirs.slice(0, 10_000), mine[1], ...theirs.slice(10_000), mine[2]];
    const seen: bigint[] = [];
    let importing = true;
    const traffic = (async () => {
      while (importing) {
        const answer = await atm.request(inquiry());
        expect(answer.get(39)).to.equal('00');
        seen.push(parseAdditionalAmounts(answer.get(54)!)!.ledgerSen);
        // An ATM's pace, under the demo partner's 200 requests/s: beyond it the answer is 97, not a balance.
        await sleep(10);
      }
    })();
    await importQuietly(importer, 'postings', `source_ref,kpj,kind,amount_sen,value_date\n${rows.join('\n')}\n`).finally(() => {
      importing = false;
    });
    await traffic;
    const after = parseAdditionalAmounts((await atm.request(inquiry())).get(54)!)!.ledgerSen;
    expect(after).to.equal(before + 3000n);
    expect(seen.length).to.be.greaterThan(5);
    expect([...new Set(seen)].filter((b) => b !== before && b !== after)).to.deep.equal([]);
  });
});
