import { expect } from 'chai';
import { AtmHost, repeatOf, type AtmHostEvent } from '../../src/client/atm-host.js';
import { balanceInquiry } from '../../src/client/atm-messages.js';
import { IsoClientError } from '../../src/client/iso-client.js';
import { FaultProxy, demo, freePort, getTestDatabase, startTestSwitch, uniqueStan, type TestSwitch } from '../support/index.js';

describe('client: the ATM host reconnects, signs on again and repeats what went unanswered', function () {
  this.timeout(30_000);
  let sw: TestSwitch;
  let proxy: FaultProxy;
  before(async () => {
    sw = await startTestSwitch();
    proxy = await FaultProxy.start({ port: sw.port });
  });
  after(async () => {
    await proxy?.close();
    await sw?.stop();
  });

  it('a repeat is the same request with the MTI 0201', () => {
    const request = balanceInquiry({ stan: '000123', acquirerId: '99901', terminalId: 'T1', pan: demo.approvedCard });
    const repeat = repeatOf(request);
    expect(repeat.mti).to.equal('0201');
    expect(repeat.toUnmaskedJSON().fields).to.deep.equal(request.toUnmaskedJSON().fields);
    expect(request.mti).to.equal('0200');
  });

  it('an answer lost with its connection: reconnect, sign on, 0201, the original answer, one processing in the journal', async () => {
    const events: AtmHostEvent[] = [];
    const host = await AtmHost.open({ port: proxy.port, timeoutMs: 3_000, onEvent: (e) => events.push(e) });
    try {
      const request = balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMHOST1', pan: demo.approvedCard });
      proxy.loseNextAnswer();
      const { response, attempts } = await host.inquire(request);
      expect(response.get(39)).to.equal('00');
      expect(attempts).to.equal(2);
      expect(host.reconnects).to.equal(1);
      expect(proxy.accepted).to.equal(2);
      expect(events.filter((e) => e.type === 'repeat')).to.deep.equal([
        { type: 'repeat', mti: '0201', stan: request.get(11), attempt: 2, reason: 'CLIENT_CLOSED' },
      ]);
      const { pool } = await getTestDatabase();
      const { rows } = await pool.query<{ kind: string; request_mti: string; response_code: string }>(
        "SELECT kind, request_mti, response_code FROM journal WHERE terminal_id = 'ATMHOST1' AND stan = $1 ORDER BY id", [request.get(11)]);
      expect(rows).to.deep.equal([
        { kind: 'request', request_mti: '0200', response_code: '00' },
        { kind: 'retransmission', request_mti: '0201', response_code: '00' },
      ]);
    } finally {
      await host.close();
    }
  });

  it('gives up with a typed error when no switch answers within the connect deadline', async () => {
    const port = await freePort();
    const failed = await AtmHost.open({ port, connectDeadlineMs: 300, reconnect: { baseMs: 50, maxMs: 100 } }).then(() => undefined, (e: unknown) => e);
    expect(failed).to.be.instanceOf(IsoClientError).and.have.property('code', 'CLIENT_CONNECT_FAILED');
  });
});
