import { expect } from 'chai';
import net from 'node:net';
import { fullJitterDelay, startDialer, type CloseInfo, type Dialer } from '../../src/transport/index.js';
import { binary2, sleep, TestPeer, waitFor } from '../support/index.js';

/** A bank's host that expects the switch to connect to it; can be stopped and restarted on its port. */
class BankHost {
  readonly peers: TestPeer[] = [];
  port = 0;
  private server: net.Server | undefined;

  async start(): Promise<void> {
    const server = net.createServer((socket) => this.peers.push(new TestPeer(socket)));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Like a host restart: the listening socket and every connection go away at once. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const p of this.peers) p.socket.destroy();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }

  get latest(): TestPeer | undefined {
    return this.peers[this.peers.length - 1];
  }
}

describe('transport dial-out', () => {
  describe('fullJitterDelay', () => {
    const options = { baseMs: 100, maxMs: 5000 };
    it('draws below base × 2^attempt, capped at max', () => {
      const almostOne = () => 0.999999;
      expect(fullJitterDelay(0, options, almostOne)).to.equal(99);
      expect(fullJitterDelay(3, options, almostOne)).to.equal(799);
      expect(fullJitterDelay(10, options, almostOne)).to.equal(4999);
      expect(fullJitterDelay(10_000, options, almostOne)).to.equal(4999);
      expect(fullJitterDelay(7, options, () => 0)).to.equal(0);
    });
    it('spreads delays across the whole window (full jitter, not equal jitter)', () => {
      const delays = Array.from({ length: 2000 }, () => fullJitterDelay(4, options));
      expect(Math.min(...delays)).to.be.below(100);
      expect(Math.max(...delays)).to.be.above(1500).and.below(1600);
    });
  });

  let bank: BankHost;
  let dialer: Dialer | undefined;
  beforeEach(async () => {
    bank = new BankHost();
    await bank.start();
  });
  afterEach(async () => {
    await dialer?.stop({ graceMs: 100 });
    dialer = undefined;
    await bank.stop();
  });

  it('reconnects after each restart of the peer, calling onConnected each time, and answers the bank on each connection', async () => {
    let connects = 0;
    const losses: CloseInfo[] = [];
    dialer = startDialer({
      host: '127.0.0.1',
      port: bank.port,
      framing: binary2,
      backoff: { baseMs: 20, maxMs: 100 },
      onConnected(connection) {
        connects++;
        connection.send(Buffer.from(`0800 sign-on #${connects}`));
        return { onMessage: (body) => Buffer.concat([Buffer.from('0210 for '), body]) };
      },
      onDisconnected: (info) => losses.push(info),
    });

    for (let round = 1; round <= 3; round++) {
      await waitFor(() => connects === round && bank.peers.length === round, { what: `connection #${round}` });
      const host = bank.latest!;
      expect(await host.waitFrames(1)).to.deep.equal([`0800 sign-on #${round}`]);
      host.send(`0200 inquiry ${round}`);
      expect((await host.waitFrames(2))[1]).to.equal(`0210 for 0200 inquiry ${round}`);
      if (round < 3) {
        await bank.stop();
        await sleep(60); // down for a while: attempts in between are refused
        await bank.start();
      }
    }
    expect(losses).to.have.length(2);
    expect(dialer.attempts).to.be.at.least(3);
  });

  it('keeps retrying while nobody listens, then connects', async () => {
    await bank.stop();
    let connects = 0;
    dialer = startDialer({
      host: '127.0.0.1',
      port: bank.port,
      framing: binary2,
      backoff: { baseMs: 10, maxMs: 40 },
      onConnected: () => (connects++, { onMessage: () => undefined }),
    });
    await waitFor(() => dialer!.attempts >= 3, { what: 'a few refused attempts' });
    expect(connects).to.equal(0);
    await bank.start();
    await waitFor(() => connects === 1, { what: 'the connection' });
    expect(dialer.connection?.isOpen).to.equal(true);
  });

  it('stop() ends the connection for good: no reconnect afterwards', async () => {
    let connects = 0;
    dialer = startDialer({
      host: '127.0.0.1',
      port: bank.port,
      framing: binary2,
      backoff: { baseMs: 10, maxMs: 20 },
      onConnected: () => (connects++, { onMessage: () => undefined }),
    });
    await waitFor(() => connects === 1 && bank.peers.length === 1, { what: 'the connection' });
    await dialer.stop({ graceMs: 500 });
    await bank.latest!.waitClosed();
    const attempts = dialer.attempts;
    await bank.stop();
    await bank.start();
    await sleep(100);
    expect(dialer.attempts).to.equal(attempts);
    expect(connects).to.equal(1);
    expect(dialer.connection).to.equal(undefined);
  });
});
