import { expect } from 'chai';
import { balanceInquiry } from '../../src/client/atm-messages.js';
import type { IsoClient } from '../../src/client/iso-client.js';
import { startTestSwitch, uniqueStan, type TestSwitch } from '../support/switch-harness.js';

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
          'SELECT reversed_at IS NOT NULL AS reversed FROM txn_key WHERE stan = $1 AND transmission_at = $2 AND terminal_id = $3',
          [original.get(11), original.get(7), original.get(41)]);
        expect(rows).to.deep.equal([{ reversed: true }]);
      }
    });
  });
});
