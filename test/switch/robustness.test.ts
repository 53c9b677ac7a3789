import { expect } from 'chai';
import fc from 'fast-check';
import { balanceInquiry, networkRequest } from '../../src/client/atm-messages.js';
import type { IsoMessage} from '../../src/iso8583/index.js';
import { Packager, loadProfile } from '../../src/iso8583/index.js';
import { RawPeer } from '../support/raw-peer.js';
import { startTestSwitch, uniqueStan, type TestSwitch } from '../support/switch-harness.js';

const packager = new Packager(loadProfile('iso87-ascii'));
const pack = (m: IsoMessage): Buffer => packager.pack(m);

async function signedOnPeer(sw: TestSwitch): Promise<RawPeer> {
  const peer = await RawPeer.connect(sw.port);
  peer.sendFrame(pack(networkRequest(uniqueStan(), '001')));
  expect(await peer.waitFor(() => peer.frames.length === 1)).to.equal(true);
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
    const inquiry = balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATM00001', pan: '6040990000000001' });
    const echo = networkRequest(uniqueStan(), '301');
    peer.write(Buffer.concat([frame(pack(inquiry)), frame(pack(echo))]));
    expect(await peer.waitFor(() => peer.frames.length === 2)).to.equal(true);
    const answers = peer.frames.map((f) => packager.unpack(f));
    expect(answers.map((a) => [a.mti, a.get(11)])).to.deep.equal([['0810', echo.get(11)], ['0210', inquiry.get(11)]]);
    peer.close();
  });

  it('matches many pipelined inquiries of different cards to their answers', async () => {
    const atm = await sw.client();
    const cards = { '6040990000000001': '00', '6040990000000019': '00', '6040990000000027': '57', '6040990000000092': '14' };
    const sent = Array.from({ length: 200 }, (_, i) => Object.keys(cards)[i % 4]!);
    const answers = await Promise.all(sent.map((pan) =>
      atm.request(balanceInquiry({ stan: atm.nextStan(), acquirerId: '99901', terminalId: 'ATM00002', pan }))));
    expect(answers.map((a) => a.get(39))).to.deep.equal(sent.map((pan) => cards[pan as keyof typeof cards]));
    expect(answers.map((a) => a.get(2))).to.deep.equal(sent);
  });

  it('garbage (undecodable MTI or bitmap) gets no answer, and the connection survives it', async () => {
    const peer = await signedOnPeer(sw);
    peer.sendFrame(Buffer.from('GARBAGE!', 'latin1'));
    peer.sendFrame(Buffer.from('0200ZZZZ', 'latin1'));
    const echo = networkRequest(uniqueStan(), '301');
    peer.sendFrame(pack(echo));
    expect(await peer.waitFor(() => peer.frames.length === 1)).to.equal(true);
    expect(packager.unpack(peer.frames[0]!).get(11)).to.equal(echo.get(11));
    expect(peer.closed).to.equal(false);
    peer.close();
  });

  it('closes a connection after repeated garbage, and keeps serving others', async () => {
    const peer = await signedOnPeer(sw);
    for (let i = 0; i < 3; i++) peer.sendFrame(Buffer.from(`\u0000\u0001garbage ${i}`, 'latin1'));
    expect(await peer.waitFor(() => peer.closed)).to.equal(true);
    expect(peer.frames).to.have.length(0);
    await expectSwitchAnswers(sw);
  });

  it('malformed frames answered 30 count toward the garbage limit: each is answered, then the connection closes', async () => {
    const peer = await signedOnPeer(sw);
    for (let i = 0; i < 3; i++) {
      const packed = pack(balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATM00003', pan: '6040990000000001' }));
      peer.sendFrame(packed.subarray(0, packed.length - 2)); // field 49 cut short: decodes as far as 41
    }
    expect(await peer.waitFor(() => peer.closed)).to.equal(true);
    expect(peer.frames.map((f) => packager.unpack(f).get(39))).to.deep.equal(['30', '30', '30']);
    await expectSwitchAnswers(sw);
  });

  it('closes a connection whose frame header announces more than the maximum, or zero bytes', async () => {
    for (const header of [Buffer.from([0x23, 0x29]) /* 9001 */, Buffer.from([0x00, 0x00])]) {
      const peer = await RawPeer.connect(sw.port);
      peer.write(Buffer.concat([header, Buffer.from('0800', 'latin1')]));
      expect(await peer.waitFor(() => peer.closed)).to.equal(true);
    }
    await expectSwitchAnswers(sw);
  });

  it('survives random bytes on many connections, and still answers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 8 }), async (chunks) => {
        const peer = await RawPeer.connect(sw.port);
        for (const chunk of chunks) peer.write(Buffer.from(chunk));
        await new Promise((r) => setTimeout(r, 5));
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

function frame(body: Buffer): Buffer {
  const header = Buffer.alloc(2);
  header.writeUInt16BE(body.length);
  return Buffer.concat([header, body]);
}

async function expectSwitchAnswers(sw: TestSwitch): Promise<void> {
  const atm = await sw.client();
  const answer = await atm.request(balanceInquiry({ stan: atm.nextStan(), acquirerId: '99901', terminalId: 'ATM00003', pan: '6040990000000001' }));
  expect(answer.get(39)).to.equal('00');
  await atm.close();
}
