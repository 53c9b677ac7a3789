import { expect } from 'chai';
import { balanceInquiry, networkRequest } from '../../../src/client/atm-messages.js';
import type { IsoClient } from '../../../src/client/iso-client.js';
import type { IsoMessage } from '../../../src/iso8583/index.js';
import { instrumentHash, lastFour } from '../../../src/ledger/index.js';
import {
  demo, expectedAdditionalAmounts, expectedParticipantData, getTestDatabase, startTestSwitch, TEST_KEYS, uniqueStan, type TestSwitch,
} from '../../support/index.js';

function inquiry(fields: { pan?: string; account?: string; acquirer?: string; processingCode?: string } = {}): IsoMessage {
  return balanceInquiry({
    stan: uniqueStan(),
    acquirerId: fields.acquirer ?? '99901',
    terminalId: 'ATM00001',
    pan: 'account' in fields && !('pan' in fields) ? undefined : (fields.pan ?? demo.approvedCard),
    account: fields.account,
    ...(fields.processingCode ? { processingCode: fields.processingCode } : {}),
  });
}

/** A journal row's channel-neutral columns, with whether its key is the request's 32+11+7+41. */
interface JournalColumns {
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

describe('switch: the contract, message by message (real TCP, real PostgreSQL)', function () {
  this.timeout(60_000);
  let sw: TestSwitch;
  let atm: IsoClient;

  before(async () => {
    sw = await startTestSwitch();
    atm = await sw.client();
  });
  after(async () => sw.stop());

  it('the journal rows name the channel, the requester, the participant (id and masked KPJ), the outcome and the key', async () => {
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
    const { rows } = await sw.running.database.pool.query<JournalColumns>(
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

  describe('network management 0800 -> 0810', () => {
    for (const [code, meaning] of [['001', 'sign-on'], ['002', 'sign-off'], ['301', 'echo test']] as const) {
      it(`${meaning} (70 = ${code}) echoes 7, 11, 70 and answers 00`, async () => {
        const client = await sw.client({ signOn: false });
        const request = networkRequest(uniqueStan(), code);
        const answer = await client.request(request);
        expect(answer.toUnmaskedJSON()).to.deep.equal({
          mti: '0810',
          fields: { '7': request.get(7)!, '11': request.get(11)!, '39': '00', '70': code },
        });
      });
    }

    it('an unknown network code answers 12', async () => {
      const answer = await atm.request(networkRequest(uniqueStan(), '001').set(70, '999'));
      expect(answer.get(39)).to.equal('12');
    });
  });

  describe('balance inquiry 0200 -> 0210', () => {
    it('approved by card: echoes the request, 54 and 48 exactly as the contract says', async () => {
      const request = inquiry().set(4, '000000000000').set(33, '12345');
      const answer = await atm.request(request);
      const echoed = [2, 3, 4, 7, 11, 12, 13, 32, 33, 37, 41, 49];
      expect(answer.mti).to.equal('0210');
      for (const field of echoed) expect(answer.get(field), `field ${field}`).to.equal(request.get(field));
      expect(answer.get(39)).to.equal('00');
      expect(answer.get(54)).to.equal(expectedAdditionalAmounts(demo.approved));
      expect(answer.get(48)).to.equal(expectedParticipantData(demo.approved));
      expect(answer.fieldNumbers()).to.deep.equal([2, 3, 4, 7, 11, 12, 13, 32, 33, 37, 39, 41, 48, 49, 54]);
    });

    it('approved by account (field 102), echoed', async () => {
      const answer = await atm.request(inquiry({ account: demo.account }));
      expect(answer.get(39)).to.equal('00');
      expect(answer.get(102)).to.equal(demo.account);
      expect(answer.has(2)).to.equal(false);
      expect(answer.get(48)).to.equal(expectedParticipantData(demo.approved));
    });

    it('approved with sen: 87,654,321.50 IDR is 8765432150 sen', async () => {
      const answer = await atm.request(inquiry({ pan: demo.secondCard }));
      expect(demo.second.balanceSen % 100n, 'the second participant\'s balance has sen').to.not.equal(0n);
      expect(answer.get(54)).to.equal(expectedAdditionalAmounts(demo.second));
      expect(answer.get(48)).to.equal(expectedParticipantData(demo.second));
    });

    it('0100 is answered by 0110', async () => {
      const request = inquiry();
      request.mti = '0100';
      const answer = await atm.request(request);
      expect([answer.mti, answer.get(39)]).to.deep.equal(['0110', '00']);
    });
  });

  describe('response codes', () => {
    it('12: processing code other than 31xx00', async () => {
      const answer = await atm.request(inquiry({ processingCode: '011000' }));
      expect([answer.mti, answer.get(39)]).to.deep.equal(['0210', '12']);
      expect(answer.has(54)).to.equal(false);
    });

    it('12: an MTI this switch does not support', async () => {
      const request = inquiry();
      request.mti = '0300';
      const answer = await atm.request(request);
      expect([answer.mti, answer.get(39)]).to.deep.equal(['0310', '12']);
    });

    it('13: field 4 present and not zero', async () => {
      expect((await atm.request(inquiry().set(4, '000000010000'))).get(39)).to.equal('13');
    });

    it('14: no participant linked to the card', async () => {
      expect((await atm.request(inquiry({ pan: demo.unlinkedCard }))).get(39)).to.equal('14');
      expect((await atm.request(inquiry({ account: '9999999999' }))).get(39)).to.equal('14');
    });

    it('30: a mandatory field missing (41), with 11 echoed', async () => {
      const request = inquiry().delete(41);
      const answer = await atm.request(request);
      expect([answer.get(39), answer.get(11)]).to.deep.equal(['30', request.get(11)]);
    });

    it('30: neither 2 nor 102', async () => {
      expect((await atm.request(inquiry().delete(2))).get(39)).to.equal('30');
    });

    it('30: currency other than 360, and an impossible date in 13', async () => {
      expect((await atm.request(inquiry().set(49, '840'))).get(39)).to.equal('30');
      expect((await atm.request(inquiry().set(13, '1332'))).get(39)).to.equal('30');
    });

    it('30: a malformed field the codec rejects still echoes what was decoded, 11 above all', async () => {
      const request = inquiry();
      const wire = atm.packager.pack(request);
      const at = wire.indexOf(Buffer.from(request.get(13)!, 'latin1'), 4 + 16 + 2 + 16 + 6 + 10 + 6 + 6);
      wire[at] = 0x41; // 'A' in numeric field 13
      const answer = await atm.requestRaw(wire, request);
      // Fields 2 to 12 came before the bad byte; 41 came after it and cannot be echoed.
      expect(answer.toUnmaskedJSON().fields).to.deep.equal({
        '2': demo.approvedCard, '3': '310000', '7': request.get(7), '11': request.get(11), '12': request.get(12), '39': '30',
      });
    });

    it('57: membership blocked', async () => {
      expect((await atm.request(inquiry({ pan: demo.blockedCard }))).get(39)).to.equal('57');
    });

    it('58: an acquirer that is not the partner bound to the connection', async () => {
      expect((await atm.request(inquiry({ acquirer: '99902' }))).get(39)).to.equal('58');
    });

    it('58: a session that has not signed on, and one that signed off', async () => {
      const client = await sw.client({ signOn: false });
      expect((await client.request(inquiry())).get(39)).to.equal('58');
      await client.request(networkRequest(uniqueStan(), '001'));
      expect((await client.request(inquiry())).get(39)).to.equal('00');
      await client.request(networkRequest(uniqueStan(), '002'));
      expect((await client.request(inquiry())).get(39)).to.equal('58');
    });
  });

  describe('retransmissions and duplicates', () => {
    it('a byte-identical retransmission gets the original answer and is journaled as such', async () => {
      const request = inquiry({ pan: demo.secondCard });
      const first = await atm.request(request);
      const again = await atm.request(request);
      expect(again.toUnmaskedJSON()).to.deep.equal(first.toUnmaskedJSON());
      const repeat = request.clone();
      repeat.mti = '0201';
      expect((await atm.request(repeat)).toUnmaskedJSON()).to.deep.equal(first.toUnmaskedJSON());
      await sw.running.journal.flush();
      const { rows } = await sw.running.database.pool.query<{ kind: string }>(
        'SELECT kind FROM journal WHERE stan = $1 AND acquirer_id = $2 ORDER BY id', [request.get(11), '99901']);
      expect(rows.map((r) => r.kind)).to.deep.equal(['request', 'retransmission', 'retransmission']);
    });

    it('94: the same 32 + 11 + 7 + 41 with other content', async () => {
      const request = inquiry();
      expect((await atm.request(request)).get(39)).to.equal('00');
      const other = request.clone().set(2, demo.secondCard);
      const answer = await atm.request(other);
      expect([answer.get(39), answer.has(54)]).to.deep.equal(['94', false]);
    });
  });

  describe('reversals 0420 / 0421 -> 0430', () => {
    it('answers 00 and marks the original in the journal', async () => {
      const original = inquiry();
      await atm.request(original);
      const field90 = '0200' + original.get(11)! + original.get(7)! + '00000099901' + '00000000000';
      const advice = inquiry();
      advice.mti = '0420';
      advice.set(90, field90);
      const answer = await atm.request(advice);
      expect([answer.mti, answer.get(39), answer.get(90)]).to.deep.equal(['0430', '00', field90]);
      const repeat = advice.clone();
      repeat.mti = '0421';
      expect((await atm.request(repeat)).get(39)).to.equal('00');
      const { rows } = await sw.running.database.pool.query<{ reversed: boolean }>(
        "SELECT reversed_at IS NOT NULL AS reversed FROM inquiry_key WHERE channel = 'atm' AND idem_key = $1 || '/' || $2",
        [original.get(11), original.get(7)]);
      expect(rows).to.deep.equal([{ reversed: true }]);
    });

    it("58: field 90 naming another partner's acquirer", async () => {
      const advice = inquiry();
      advice.mti = '0420';
      advice.set(90, '0200' + '000001' + '1124093015' + '00000012345' + '00000000000');
      expect((await atm.request(advice)).get(39)).to.equal('58');
    });
  });
});

describe('switch: an internal failure answers 96', function () {
  this.timeout(60_000);

  it('a balance that field 54 cannot carry (13 digits of sen) is 96, logged, and the switch carries on', async () => {
    const db = await getTestDatabase();
    const pan = '6040990000000993';
    const { rows } = await db.pool.query<{ id: bigint }>(
      `INSERT INTO participant (kpj_number, name, membership_status) VALUES ('12000000993', 'ORANG KAYA', 'ACTIVE')
       ON CONFLICT (kpj_number) DO UPDATE SET name = EXCLUDED.name RETURNING id`);
    const id = rows[0]!.id;
    await db.pool.query(
      `INSERT INTO instrument_link (kind, instrument_hash, key_id, last4, participant_id) VALUES ('CARD', $1, $2, $3, $4)
       ON CONFLICT (kind, instrument_hash) DO NOTHING`, [instrumentHash(TEST_KEYS.current, pan), TEST_KEYS.current.id, lastFour(pan), id]);
    await db.pool.query(
      `INSERT INTO jht_posting (participant_id, kind, amount_sen, value_date, source_ref)
       VALUES ($1, 'CONTRIBUTION', 1000000000000, '2026-10-31', 'test-96-huge-balance') ON CONFLICT (source_ref) DO NOTHING`, [id]);

    const sw = await startTestSwitch();
    try {
      const atm = await sw.client();
      const answer = await atm.request(inquiry({ pan }));
      expect([answer.get(39), answer.has(54), answer.has(48)]).to.deep.equal(['96', false, false]);
      expect((await atm.request(inquiry())).get(39)).to.equal('00');
      expect(sw.logs.text).to.include('cannot build the response');
    } finally {
      await sw.stop();
    }
  });
});
