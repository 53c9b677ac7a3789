import { expect } from 'chai';
import net from 'node:net';
import { balanceInquiry, networkRequest } from '../../../src/client/atm-messages.js';
import { createLogger } from '../../../src/observability/logger.js';
import { RefusalLog } from '../../../src/transport/index.js';
import { demo, LogCapture, proxyHeaderFor, sleep, startTestSwitch, TestPeer, uniqueStan, waitFor, type TestSwitch } from '../../support/index.js';

const SLOW_SOCKETS = 500;
const DEMO = { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] };

/** The demo partner's sessions that have not signed on. */
const unsignedSessions = (sw: TestSwitch): number =>
  sw.running.network.status().find((p) => p.id === 'demo')!.sessions.filter((s) => !s.signedOn).length;

/** A socket from the partner's own address that sends one byte a second of a frame it never finishes. */
function slowSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', () => undefined);
  });
}

describe('switch: connection exhaustion (slow sockets that never sign on)', function () {
  this.timeout(60_000);

  it(`${SLOW_SOCKETS} sockets at 1 byte/s from the partner's own address: the partner's real host still gets its 00`, async () => {
    const sw = await startTestSwitch({ transport: { refusalLogIntervalMs: 1_000 }, partners: [DEMO] });
    const sockets: net.Socket[] = [];
    const header = Buffer.from([0x00, 0x60]); // a 96-byte frame, never finished
    let sent = 0;
    const trickle = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write(header.subarray(sent % 2, (sent % 2) + 1));
      sent++;
    }, 1_000);
    const started = Date.now();
    try {
      for (let i = 0; i < SLOW_SOCKETS; i += 50) {
        sockets.push(...await Promise.all(Array.from({ length: 50 }, () => slowSocket(sw.port))));
      }
      await sleep(1_500); // the first ones are now old enough to make room for a newcomer
      expect(unsignedSessions(sw), 'unsigned sessions held').to.be.at.most(8);

      const atm = await sw.client({ timeoutMs: 3_000 }); // signs on
      const answer = await atm.request(balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMSLOW1', pan: demo.approvedCard }));
      expect(answer.get(39)).to.equal('00');
      expect(unsignedSessions(sw)).to.be.at.most(8);

      await waitFor(() => sw.logs.text.includes('connections refused (summary)'), { what: 'the refusal summary', timeoutMs: 5_000 });
      const refusalLines = sw.logs.lines.filter((l) => l.includes('"msg":"connection refused"') || l.includes('connections refused (summary)'));
      // One line at the first refusal, then a summary a second: not one line per refused socket (500). Bounded
      // by the test's own duration, which a loaded runner stretches.
      expect(refusalLines.length).to.be.at.most(2 + Math.ceil((Date.now() - started) / 1_000));
      const summary = JSON.parse(refusalLines.find((l) => l.includes('(summary)'))!) as { refused: Record<string, number> };
      expect(summary.refused.TOO_MANY_UNSIGNED).to.be.greaterThan(400);
      await atm.close();
    } finally {
      clearInterval(trickle);
      for (const s of sockets) s.destroy();
      await sw.stop();
    }
  });

  it('closes a socket whose frame is not complete within frameDeadlineMs, not one that is merely quiet', async () => {
    const sw = await startTestSwitch({ transport: { frameDeadlineMs: 300, signOnDeadlineMs: 60_000 }, partners: [DEMO] });
    try {
      const quiet = await TestPeer.connect(sw.port);
      const slow = await TestPeer.connect(sw.port);
      slow.write(Buffer.from([0x00, 0x20, 0x30, 0x38])); // a header and 2 of 32 bytes
      await slow.waitClosed(2_000);
      expect(quiet.isClosed).to.equal(false);
      expect(sw.logs.text).to.include('"reason":"FRAME_DEADLINE"');
      quiet.close();
    } finally {
      await sw.stop();
    }
  });

  it('closes a connection that has not signed on within signOnDeadlineMs; a signed-on one stays', async () => {
    const sw = await startTestSwitch({ transport: { signOnDeadlineMs: 300 }, partners: [DEMO] });
    try {
      const signedOn = await sw.client();
      const never = await TestPeer.connect(sw.port);
      await never.waitClosed(2_000);
      await waitFor(() => sw.logs.text.includes('"reason":"SIGN_ON_DEADLINE"'), { what: 'the SIGN_ON_DEADLINE refusal in the log' });
      await sleep(400);
      const answer = await signedOn.request(networkRequest(signedOn.nextStan(), '301'));
      expect(answer.get(39)).to.equal('00');
    } finally {
      await sw.stop();
    }
  });

  it('counts only connections not signed on against maxUnsignedPerSource', async () => {
    const sw = await startTestSwitch({ transport: { maxUnsignedPerSource: 2, refusalLogIntervalMs: 100 }, partners: [DEMO] });
    try {
      for (let i = 0; i < 3; i++) await sw.client(); // signed on: not counted
      const waiting = [await TestPeer.connect(sw.port), await TestPeer.connect(sw.port)];
      const third = await TestPeer.connect(sw.port);
      await third.waitClosed(); // both waiting ones are younger than a second: refused, nobody evicted
      expect(waiting.map((p) => p.isClosed)).to.deep.equal([false, false]);
      await sleep(1_100);
      const fourth = await TestPeer.connect(sw.port);
      await waiting[0]!.waitClosed(); // the oldest made room
      expect(fourth.isClosed).to.equal(false);
      await waitFor(() => sw.logs.text.includes('EVICTED_UNSIGNED') && sw.logs.text.includes('TOO_MANY_UNSIGNED'), { what: 'the refusals in the log' });
      for (const p of [...waiting, fourth]) p.close();
    } finally {
      await sw.stop();
    }
  });

  it('behind a trusted proxy, caps by the address the PROXY header carries, not by the proxy\'s', async () => {
    const sw = await startTestSwitch({
      transport: { maxUnsignedPerSource: 1, trustedProxies: ['127.0.0.1'], refusalLogIntervalMs: 100 },
      partners: [{ ...DEMO, allowFrom: ['198.51.100.0/24'] }],
    });
    const via = async (address: string): Promise<TestPeer> => {
      const peer = await TestPeer.connect(sw.port);
      peer.write(proxyHeaderFor({ address, port: 40_000 }, { address: '127.0.0.1', port: sw.port }));
      return peer;
    };
    try {
      const first = await via('198.51.100.5');
      const otherBank = await via('198.51.100.6');
      const second = await via('198.51.100.5');
      await second.waitClosed();
      await waitFor(() => sw.logs.text.includes('TOO_MANY_UNSIGNED'), { what: 'the refusal' });
      expect([first.isClosed, otherBank.isClosed]).to.deep.equal([false, false]);
      const remotes = sw.running.network.status().find((p) => p.id === 'demo')!.sessions.map((s) => s.remote).sort();
      expect(remotes).to.deep.equal(['198.51.100.5', '198.51.100.6']);
      first.close();
      otherBank.close();
    } finally {
      await sw.stop();
    }
  });
});

describe('transport: RefusalLog', () => {
  it('logs the first refusal at once, then one summary line per interval with counts', async () => {
    const capture = new LogCapture();
    const refusals = new RefusalLog(createLogger({ level: 'info', destination: capture }), 100);
    for (let i = 0; i < 1_000; i++) refusals.record({ reason: i % 2 ? 'TOO_MANY_UNSIGNED' : 'ADDRESS_NOT_ALLOWED', remoteAddress: `10.0.${i % 4}.1` });
    await waitFor(() => capture.lines.length >= 2, { what: 'the summary' });
    const [first, summary] = capture.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).to.deep.include({ msg: 'connection refused', reason: 'ADDRESS_NOT_ALLOWED' });
    expect(summary).to.deep.include({ msg: 'connections refused (summary)', total: 999, sources: 4, refused: { TOO_MANY_UNSIGNED: 500, ADDRESS_NOT_ALLOWED: 499 } });
    await sleep(250);
    expect(capture.lines).to.have.length(2);
    refusals.close();
  });
});
