import { expect } from 'chai';
import fc from 'fast-check';
import { balanceInquiry, networkRequest } from '../../../src/client/atm-messages.js';
import type { IsoMessage} from '../../../src/iso8583/index.js';
import { Packager, loadProfile } from '../../../src/iso8583/index.js';
import {
  binary2, demo, DEMO_CARD_ANSWERS, sleep, startTestSwitch, TestPeer, uniqueStan, type TestSwitch,
} from '../../support/index.js';

const packager = new Packager(loadProfile('iso87-ascii'));
const pack = (m: IsoMessage): Buffer => packager.pack(m);

async function signedOnPeer(sw: TestSwitch): Promise<TestPeer> {
  const peer = await TestPeer.connect(sw.port);
  peer.send(pack(networkRequest(uniqueStan(), '001')));
  await peer.waitFrames(1);
  peer.frames.length = 0;
  return peer;
}

describe('switch: transport behaviour', function () {
  this.timeout(60_000);
  let sw: TestSwitch;

  before(async () => {
    sw = await startTestSwitch({
      transport: { maxFrameBytes: 8192, idleTimeoutMs: 300_000, maxGarbageFrames: 3 },
      // Bursts of 200 pipelined inquiries, more than once a second: above the default rate of 200/s.
      partners: [{ id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'], limits: { requestsPerSecond: 5_000 } }],
    });
  });
  after(async () => sw.stop());

  it('answers pipelined requests as each is ready: an echo overtakes an inquiry sent before it', async () => {
    const peer = await signedOnPeer(sw);
    const inquiry = balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATM00001', pan: demo.approvedCard });
    const echo = networkRequest(uniqueStan(), '301');
    peer.write(Buffer.concat([binary2.frame(pack(inquiry)), binary2.frame(pack(echo))]));
    await peer.waitFrames(2);
    const answers = peer.frames.map((f) => packager.unpack(f.body));
    expect(answers.map((a) => [a.mti, a.get(11)])).to.deep.equal([['0810', echo.get(11)], ['0210', inquiry.get(11)]]);
    peer.close();
  });

  it('matches many pipelined inquiries of different cards to their answers', async () => {
    const atm = await sw.client();
    const cards = new Map(DEMO_CARD_ANSWERS);
    const sent = Array.from({ length: 200 }, (_, i) => DEMO_CARD_ANSWERS[i % DEMO_CARD_ANSWERS.length]![0]);
    const answers = await Promise.all(sent.map((pan) =>
      atm.request(balanceInquiry({ stan: atm.nextStan(), acquirerId: '99901', terminalId: 'ATM00002', pan }))));
    expect(answers.map((a) => a.get(39))).to.deep.equal(sent.map((pan) => cards.get(pan)));
    expect(answers.map((a) => a.get(2))).to.deep.equal(sent);
  });

  it('garbage (undecodable MTI or bitmap) gets no answer, and the connection survives it', async () => {
    const peer = await signedOnPeer(sw);
    peer.send(Buffer.from('GARBAGE!', 'latin1'));
    peer.send(Buffer.from('0200ZZZZ', 'latin1'));
    const echo = networkRequest(uniqueStan(), '301');
    peer.send(pack(echo));
    await peer.waitFrames(1);
    expect(packager.unpack(peer.frames[0]!.body).get(11)).to.equal(echo.get(11));
    expect(peer.isClosed).to.equal(false);
    peer.close();
  });

  it('closes a connection after repeated garbage, and keeps serving others', async () => {
    const peer = await signedOnPeer(sw);
    for (let i = 0; i < 3; i++) peer.send(Buffer.from(`\u0000\u0001garbage ${i}`, 'latin1'));
    await peer.waitClosed();
    expect(peer.frames).to.have.length(0);
    await expectSwitchAnswers(sw);
  });

  it('malformed frames answered 30 count toward the garbage limit: each is answered, then the connection closes', async () => {
    const peer = await signedOnPeer(sw);
    for (let i = 0; i < 3; i++) {
      const packed = pack(balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATM00003', pan: demo.approvedCard }));
      peer.send(packed.subarray(0, packed.length - 2)); // field 49 cut short: decodes as far as 41
    }
    await peer.waitClosed();
    expect(peer.frames.map((f) => packager.unpack(f.body).get(39))).to.deep.equal(['30', '30', '30']);
    await expectSwitchAnswers(sw);
  });

  it('closes a connection whose frame header announces more than the maximum, or zero bytes', async () => {
    for (const header of [Buffer.from([0x23, 0x29]) /* 9001 */, Buffer.from([0x00, 0x00])]) {
      const peer = await TestPeer.connect(sw.port);
      peer.write(Buffer.concat([header, Buffer.from('0800', 'latin1')]));
      await peer.waitClosed();
    }
    await expectSwitchAnswers(sw);
  });

  it('survives random bytes on many connections, and still answers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 8 }), async (chunks) => {
        const peer = await TestPeer.connect(sw.port);
        for (const chunk of chunks) peer.write(Buffer.from(chunk));
        await sleep(5);
        peer.close();
      }),
      { numRuns: 60 },
    );
    await expectSwitchAnswers(sw);
  });

  it('logs undecodable messages without their bytes', () => {
    const lines = sw.logs.lines.filter((l) => l.includes('undecodable message'));
    expect(lines.length).to.be.greaterThan(0);
    for (const line of lines) expect(line).to.not.include('GARBAGE');
  });
});

async function expectSwitchAnswers(sw: TestSwitch): Promise<void> {
  const atm = await sw.client();
  const answer = await atm.request(balanceInquiry({ stan: atm.nextStan(), acquirerId: '99901', terminalId: 'ATM00003', pan: demo.approvedCard }));
  expect(answer.get(39)).to.equal('00');
  await atm.close();
}
