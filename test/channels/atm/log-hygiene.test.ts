import { expect } from 'chai';
import { balanceInquiry, networkRequest } from '../../../src/client/atm-messages.js';
import type { IsoClient } from '../../../src/client/iso-client.js';
import type { IsoMessage } from '../../../src/iso8583/index.js';
import {
  clearIdentifiers, demo, DEMO_CARDS, getTestDatabase, luhnRuns, startTestSwitch, TestPeer, uniqueStan, type TestSwitch,
} from '../../support/index.js';

const CARDS = DEMO_CARDS;
const TRACK2 = `${demo.approvedCard}=29121011234567890`;
const PIN_BLOCK = '0412AC89ABCDEF67';

/** The values of a JSON log line, minus pino's own timestamp (a 13-digit number that is not card data). */
function scannableText(line: string): string {
  const { time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
  return JSON.stringify(rest);
}

describe('switch: no card data in logs, errors or the journal', function () {
  this.timeout(60_000);
  let sw: TestSwitch;
  let atm: IsoClient;
  const inquiry = (pan = CARDS[0]!): IsoMessage =>
    balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMHYGNE', pan });

  before(async () => {
    sw = await startTestSwitch({ ledger: { timeoutMs: 250, breakerResetMs: 300, breakerErrorPercentage: 50, breakerVolumeThreshold: 2 } });
    atm = await sw.client();
  });
  after(async () => sw.stop());

  it('drives every contract path', async () => {
    for (const pan of CARDS) await atm.request(inquiry(pan).set(35, TRACK2).set(52, PIN_BLOCK)); // 00, 00, 57, 14
    await atm.request(inquiry().set(3, '011000')); // 12
    await atm.request(inquiry().set(4, '000000000100')); // 13
    await atm.request(inquiry().delete(41)); // 30
    await atm.request(inquiry().set(32, '99999')); // 58
    const original = inquiry(CARDS[1]);
    await atm.request(original);
    await atm.request(original); // retransmission
    await atm.request(original.clone().set(2, CARDS[0]!)); // 94
    const advice = inquiry().set(90, `0200${original.get(11)}${original.get(7)}00000099901${'0'.repeat(11)}`);
    advice.mti = '0420';
    await atm.request(advice); // 0430
    // A malformed field after the PAN: the format error carries the decoded PAN in its partial message.
    const wire = atm.packager.pack(inquiry());
    wire[wire.length - 1] = 0x01;
    await atm.requestRaw(wire, inquiry()).catch(() => undefined);
    const unsigned = await sw.client({ signOn: false });
    await unsigned.request(inquiry()); // 58, not signed on
    await unsigned.request(networkRequest(uniqueStan(), '002'));
    const peer = await TestPeer.connect(sw.port);
    peer.send(Buffer.from(`GARBAGE ${CARDS[0]} ${TRACK2}`, 'latin1'));
    peer.send(Buffer.from(`0200${CARDS[0]}`, 'latin1'));
    peer.write(Buffer.from([0xff, 0xff, ...Buffer.from(CARDS[0]!)])); // oversize header
    await peer.waitClosed();
    const db = await getTestDatabase();
    if (db.embedded) {
      await db.pauseServer(); // 91 with the ledger away
      for (let i = 0; i < 4; i++) await atm.request(inquiry());
      await db.resumeServer();
    }
    await sw.running.journal.flush();
    expect(sw.logs.lines.length).to.be.greaterThan(20);
  });

  it('no log line holds a Luhn-valid card number, a NIK, an MSISDN, an e-mail address, a track 2 or a PIN block', () => {
    for (const line of sw.logs.lines) {
      const text = scannableText(line);
      expect(clearIdentifiers(text), line).to.deep.equal([]);
      expect(text, line).to.not.include(TRACK2.split('=')[1]!);
      expect(text, line).to.not.include(PIN_BLOCK);
    }
  });

  it('the journal and the duplicate keys hold masked PANs only', async () => {
    const db = await getTestDatabase();
    for (const table of ['journal', 'inquiry_key', 'inquiry_answer']) {
      // Not scanned for digit runs: the request digest (an HMAC, as hex) and field 54 (amounts), which are
      // long digit strings by construction. The exact card numbers are looked for in whole rows.
      const { rows } = await db.pool.query<{ row: string; whole: string }>(
        `SELECT (to_jsonb(t) - 'request_digest' - 'response_54' #- '{body,54}')::text AS row, t::text AS whole FROM ${table} t`);
      for (const { row, whole } of rows) {
        expect(luhnRuns(row), `${table}: ${row}`).to.deep.equal([]);
        for (const card of CARDS) expect(whole).to.not.include(card);
      }
    }
    const { rows } = await db.pool.query<{ masked_pan: string }>("SELECT DISTINCT masked_pan FROM journal WHERE terminal_id = 'ATMHYGNE' AND masked_pan IS NOT NULL");
    expect(rows.map((r) => r.masked_pan).sort()).to.deep.equal(CARDS.map((c) => `${c.slice(0, 6)}******${c.slice(-4)}`).sort());
  });
});
