import { expect } from 'chai';
import { balanceInquiry } from '../../../src/client/atm-messages.js';
import type { IsoClient } from '../../../src/client/iso-client.js';
import { startTestSwitch, uniqueStan, type TestSwitch } from '../../support/switch-harness.js';

const BUDI_CARD = '6040990000000001';

describe('switch: partner identity', function () {
  this.timeout(60_000);

  describe('an acquirer configured with leading zeros (008)', () => {
    let sw: TestSwitch;
    let atm: IsoClient;
    before(async () => {
      sw = await startTestSwitch({ partners: [{ id: 'bank-z', name: 'Bank Z', acquirerIds: ['008'] }] });
      atm = await sw.client();
    });
    after(async () => sw.stop());

    it('sends 008 or 8 in field 32, and reverses its own transactions (field 90 carries 00000000008)', async () => {
      for (const acquirerId of ['008', '8']) {
        const original = balanceInquiry({ stan: uniqueStan(), acquirerId, terminalId: 'ATMZERO1', pan: BUDI_CARD });
        expect((await atm.request(original)).get(39)).to.equal('00');
        const advice = original.clone();
        advice.mti = '0420';
        advice.set(11, uniqueStan());
        advice.set(90, '0200' + original.get(11)! + original.get(7)! + '00000000008' + '00000000000');
        expect((await atm.request(advice)).get(39), `field 32 = ${acquirerId}`).to.equal('00');
        const { rows } = await sw.running.database.pool.query<{ reversed: boolean }>(
          "SELECT reversed_at IS NOT NULL AS reversed FROM inquiry_key WHERE channel = 'atm' AND idem_key = $1 || '/' || $2 AND requester LIKE '%/' || $3",
          [original.get(11), original.get(7), original.get(41)]);
        expect(rows).to.deep.equal([{ reversed: true }]);
      }
    });
  });
  describe('enumeration: a partner host cannot sweep card numbers quickly or outside its own BINs', () => {
    let sw: TestSwitch;
    let atm: IsoClient;
    before(async () => {
      sw = await startTestSwitch({ partners: [{ id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'], bins: ['60409900'] }] });
      atm = await sw.client();
    });
    after(async () => sw.stop());

    const ask = async (pan: string): Promise<string> =>
      (await atm.request(balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMENUM1', pan }))).get(39)!;

    it('a card outside the partner\'s BINs is answered 58 before the ledger is read; its own cards as usual', async () => {
      expect(await ask(BUDI_CARD)).to.equal('00');
      expect(await ask('6040990000000092')).to.equal('14');
      const outside = balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMENUM1', pan: '6040991234567891' });
      expect((await atm.request(outside)).get(39)).to.equal('58');
      const { rows } = await sw.running.database.pool.query("SELECT 1 FROM inquiry_key WHERE channel = 'atm' AND idem_key = $1 || '/' || $2",
        [outside.get(11), outside.get(7)]);
      expect(rows, 'no duplicate-detection claim, so no database work').to.have.length(0);
      expect(sw.logs.text).to.include("card outside partner demo's BINs");
    });

    it('without a configured rate, a partner gets 200 requests a second: the rest of a burst is answered 97', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // a full bucket
      // 500 at once: the bucket refills at 200/s while the burst is read, so a burst of barely more than 200
      // could be all served on a slow runner; this one needs 1.5 s for that.
      const started = performance.now();
      const codes = await Promise.all(Array.from({ length: 500 }, () => ask('6040990000000092')));
      const elapsedS = (performance.now() - started) / 1000;
      const refused = codes.filter((c) => c === '97').length;
      expect(refused).to.be.greaterThan(0);
      // A full bucket, plus what refilled at 200/s while the burst was in.
      expect(codes.length - refused).to.be.within(200, 200 + Math.ceil(200 * elapsedS));
    });
  });
});
