import { expect } from 'chai';
import { balanceInquiry } from '../../../src/client/atm-messages.js';
import type { IsoClient } from '../../../src/client/iso-client.js';
import { demo, getTestDatabase, sleep, startTestSwitch, type TestSwitch } from '../../support/index.js';

function ask(atm: IsoClient): Promise<string> {
  return atm.request(balanceInquiry({ stan: atm.nextStan(), acquirerId: '99901', terminalId: 'ATMLIMIT', pan: demo.approvedCard }))
    .then((answer) => answer.get(39)!);
}

describe('switch: partner limits answer 97 at once, never queue', function () {
  this.timeout(60_000);
  let sw: TestSwitch | undefined;
  afterEach(async () => {
    await sw?.stop();
    sw = undefined;
  });

  it('requests per second: a burst over the rate gets 97 for the excess, and the partner is served again a second later', async () => {
    sw = await startTestSwitch({ partners: [{ id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'], limits: { maxConnections: 8, maxInFlight: 512, requestsPerSecond: 10 } }] });
    const atm = await sw.client();
    const codes = await Promise.all(Array.from({ length: 30 }, () => ask(atm)));
    const approved = codes.filter((c) => c === '00').length;
    expect(approved).to.be.within(9, 12);
    expect(codes.filter((c) => c === '97').length).to.equal(30 - approved);
    await sleep(1_100);
    expect(await ask(atm)).to.equal('00');
  });

  it('requests in flight: beyond the limit the answer is 97 while the first ones wait on the ledger', async () => {
    sw = await startTestSwitch({
      ledger: { timeoutMs: 10_000, breakerResetMs: 2_000, breakerErrorPercentage: 50, breakerVolumeThreshold: 5 },
      partners: [{ id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'], limits: { maxConnections: 8, maxInFlight: 3 } }],
    });
    const atm = await sw.client();
    const db = await getTestDatabase();
    const lock = await db.pool.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE jht_balance IN ACCESS EXCLUSIVE MODE');
      const held = [ask(atm), ask(atm), ask(atm)];
      await sleep(200);
      const started = performance.now();
      const over = await Promise.all([ask(atm), ask(atm)]);
      expect(over).to.deep.equal(['97', '97']);
      expect(performance.now() - started, 'refused at once').to.be.below(500);
      await lock.query('COMMIT');
      expect(await Promise.all(held)).to.deep.equal(['00', '00', '00']);
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      lock.release();
    }
  });
});
