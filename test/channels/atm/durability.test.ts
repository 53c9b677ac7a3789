import { expect } from 'chai';
import { balanceInquiry } from '../../../src/client/atm-messages.js';
import type { Pool } from 'pg';
import type { IsoClient } from '../../../src/client/iso-client.js';
import type { IsoMessage } from '../../../src/iso8583/index.js';
import { DEMO_PARTICIPANTS } from '../../../src/ledger/index.js';
import { getTestDatabase } from '../../support/database.js';
import { startTestSwitch, uniqueStan, type TestSwitch } from '../../support/switch-harness.js';
import { sleep } from '../../support/wait.js';

const CARD = DEMO_PARTICIPANTS[0]!.cards[0]!;

/**
 * Runs `work` while another session holds the journal table locked, which delays every commit that writes to
 * it for as long as `work` takes; then releases the lock.
 */
async function withJournalLocked(pool: Pool, work: () => Promise<void>): Promise<void> {
  const lock = await pool.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE journal IN ACCESS EXCLUSIVE MODE');
    await work();
    await lock.query('COMMIT');
  } finally {
    await lock.query('ROLLBACK').catch(() => undefined);
    lock.release();
  }
}

/**
 * The durability invariant, seen from the ATM: an answer from the inquiry path leaves the switch only after
 * its journal row and its stored answer are committed. The test holds the journal table locked, which delays
 * that commit for as long as it likes: no answer may arrive meanwhile, and when it does, both rows are there.
 */
describe('switch: an answer is sent only once its journal row and stored answer are durable', function () {
  this.timeout(60_000);
  let sw: TestSwitch;
  let atm: IsoClient;

  before(async () => {
    // The default 250 ms budget: the claim and the ledger read do not touch the journal, so they are not
    // what waits on the lock, and the durable commit after them has no client-side timeout to miss.
    sw = await startTestSwitch();
    atm = await sw.client({ timeoutMs: 20_000 });
  });
  after(async () => sw.stop());

  /** Sends `request` and waits a second: its answer must not come meanwhile, since its commit waits on the lock. */
  async function sentAndHeld(request: IsoMessage, what: string): Promise<{ answer: Promise<IsoMessage> }> {
    let answered = false;
    const answer = atm.request(request).then((message) => {
      answered = true;
      return message;
    });
    await sleep(1_000);
    expect(answered, `${what} left before its journal row was committed`).to.equal(false);
    return { answer };
  }

  it('holds the 00 while the commit is delayed, and sends it right after, with both rows written', async () => {
    const { pool } = await getTestDatabase();
    const stan = uniqueStan();
    let held: { answer: Promise<IsoMessage> } | undefined;
    await withJournalLocked(pool, async () => {
      held = await sentAndHeld(balanceInquiry({ stan, acquirerId: '99901', terminalId: 'DURABLE1', pan: CARD }), 'an answer');
      const { rows: waiting } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO inquiry_answer%'");
      expect(waiting[0]?.n, 'the durable commit is what waits').to.be.at.least(1);
    });
    expect((await held!.answer).get(39)).to.equal('00');
    const { rows } = await pool.query<{ kind: string; response_code: string; answer: string | null }>(
      `SELECT j.kind, j.response_code, a.outcome AS answer
         FROM journal j LEFT JOIN inquiry_answer a ON a.inquiry_key_id = j.inquiry_key_id
        WHERE j.terminal_id = 'DURABLE1' AND j.stan = $1`, [stan]);
    expect(rows).to.deep.equal([{ kind: 'request', response_code: '00', answer: '00' }]);
  });

  it('a commit that fails sends 91 instead, and the retransmission processes the unknown outcome anew', async () => {
    const { pool } = await getTestDatabase();
    const request = balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'DURABLE2', pan: CARD });
    await withJournalLocked(pool, async () => {
      const answer = atm.request(request);
      // The durable commit waits on the lock; the database then kills it: nothing of it is written.
      const deadline = Date.now() + 5_000;
      for (;;) {
        const { rows } = await pool.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO inquiry_answer%'");
        if (rows[0]) {
          await pool.query('SELECT pg_cancel_backend($1)', [rows[0].pid]);
          break;
        }
        if (Date.now() > deadline) throw new Error('the durable commit never waited on the lock');
        await sleep(20);
      }
      expect((await answer).get(39)).to.equal('91');
    });
    const repeat = request.clone();
    repeat.mti = '0201';
    const fresh = await atm.request(repeat);
    expect(fresh.get(39), 'an unknown outcome is processed anew, never 96').to.equal('00');
    expect(fresh.get(54)).to.be.a('string');
    const { rows } = await pool.query<{ kind: string; response_code: string }>(
      "SELECT kind, response_code FROM journal WHERE terminal_id = 'DURABLE2' AND stan = $1 ORDER BY id", [request.get(11)]);
    expect(rows).to.deep.equal([{ kind: 'request', response_code: '91' }, { kind: 'reprocessed', response_code: '00' }]);
  });

  it('holds a retransmission\'s replay while its durable commit is delayed, then sends the original answer', async () => {
    const { pool } = await getTestDatabase();
    const request = balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'DURABLE3', pan: CARD });
    const original = await atm.request(request);
    expect(original.get(39)).to.equal('00');
    const repeat = request.clone();
    repeat.mti = '0201';
    let held: { answer: Promise<IsoMessage> } | undefined;
    await withJournalLocked(pool, async () => {
      held = await sentAndHeld(repeat, 'a replay');
    });
    const replay = await held!.answer;
    expect([replay.get(39), replay.get(54), replay.get(48)]).to.deep.equal([original.get(39), original.get(54), original.get(48)]);
    const { rows } = await pool.query<{ kind: string; response_code: string }>(
      "SELECT kind, response_code FROM journal WHERE terminal_id = 'DURABLE3' AND stan = $1 ORDER BY id", [request.get(11)]);
    expect(rows).to.deep.equal([{ kind: 'request', response_code: '00' }, { kind: 'retransmission', response_code: '00' }]);
  });
});
