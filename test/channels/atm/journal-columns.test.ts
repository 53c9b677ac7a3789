import { expect } from 'chai';
import { balanceInquiry } from '../../../src/client/atm-messages.js';
import type { IsoClient } from '../../../src/client/iso-client.js';
import { demo } from '../../support/index.js';
import { startTestSwitch, uniqueStan, type TestSwitch } from '../../support/switch-harness.js';

interface Row {
  stan: string;
  kind: string;
  response_code: string;
  channel: string;
  requester: string | null;
  participant_known: boolean;
  masked_kpj: string | null;
  outcome: string | null;
  key_matches: boolean;
}

describe('switch: the ATM journal rows in the channel-neutral columns (issues 12, 13)', function () {
  this.timeout(60_000);
  let sw: TestSwitch;
  let atm: IsoClient;
  before(async () => {
    sw = await startTestSwitch();
    atm = await sw.client();
  });
  after(async () => sw.stop());

  it('name the channel, the requester, the participant (id and masked KPJ), the outcome and the key', async () => {
    const asked = [
      balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMCOLS1', pan: demo.approvedCard }),
      balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMCOLS1', pan: demo.blockedCard }),
      balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMCOLS1', pan: demo.unlinkedCard }),
    ];
    for (const request of asked) await atm.request(request);
    const repeat = asked[0]!.clone();
    repeat.mti = '0201';
    expect((await atm.request(repeat)).get(39)).to.equal('00');
    await sw.running.journal.flush();
    const { rows } = await sw.running.database.pool.query<Row>(
      `SELECT j.stan, j.kind, j.response_code, j.channel, j.requester, j.participant_id IS NOT NULL AS participant_known, j.masked_kpj, j.outcome,
              k.requester = '99901/ATMCOLS1' AND k.idem_key = j.stan || '/' || j.transmission_at AS key_matches
         FROM journal j JOIN inquiry_key k ON k.id = j.inquiry_key_id
        WHERE j.terminal_id = 'ATMCOLS1' ORDER BY j.id`);
    const kpj = (kpj: string): string => `*******${kpj.slice(-4)}`;
    const common = { channel: 'atm', requester: 'demo/ATMCOLS1', key_matches: true };
    expect(rows.map(({ stan: _, ...row }) => row)).to.deep.equal([
      { ...common, kind: 'request', response_code: '00', participant_known: true, masked_kpj: kpj(demo.approved.kpj), outcome: 'answered' },
      { ...common, kind: 'request', response_code: '57', participant_known: true, masked_kpj: kpj(demo.blocked.kpj), outcome: 'membership-blocked' },
      { ...common, kind: 'request', response_code: '14', participant_known: false, masked_kpj: null, outcome: 'not-found' },
      { ...common, kind: 'retransmission', response_code: '00', participant_known: false, masked_kpj: null, outcome: null },
    ]);
    expect(rows[3]!.stan).to.equal(rows[0]!.stan);
  });
});
