import { expect } from 'chai';
import net from 'node:net';
import { AllowList, normalizeAddress, startListener, TransportConfigError, type Listener, type Refusal } from '../../src/transport/index.js';
import { binary2, TestPeer, waitFor } from '../support/index.js';

describe('transport listener', () => {
  describe('AllowList', () => {
    it('matches single addresses and CIDR blocks, IPv4 and IPv6', () => {
      const list = new AllowList(['10.1.2.3', '192.168.0.0/16', '2001:db8::/32', '::1']);
      expect(list.allows('10.1.2.3')).to.equal(true);
      expect(list.allows('10.1.2.4')).to.equal(false);
      expect(list.allows('192.168.77.1')).to.equal(true);
      expect(list.allows('192.169.0.1')).to.equal(false);
      expect(list.allows('2001:db8:1::5')).to.equal(true);
      expect(list.allows('2001:db9::5')).to.equal(false);
      expect(list.allows('::1')).to.equal(true);
      expect(list.allows(undefined)).to.equal(false);
      expect(list.allows('not-an-ip')).to.equal(false);
    });

    it('matches IPv4-mapped IPv6 peers against IPv4 entries', () => {
      const list = new AllowList(['127.0.0.1', '10.0.0.0/8']);
      expect(list.allows('::ffff:127.0.0.1')).to.equal(true);
      expect(list.allows('::FFFF:10.20.30.40')).to.equal(true);
      expect(list.allows('::ffff:11.0.0.1')).to.equal(false);
      expect(normalizeAddress('::ffff:127.0.0.1')).to.equal('127.0.0.1');
      expect(normalizeAddress('::1')).to.equal('::1');
    });

    it('refuses entries that are not addresses or CIDR blocks', () => {
      for (const bad of ['10.0.0.300', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/x', 'localhost', '::/129']) {
        expect(() => new AllowList([bad]), bad).to.throw(TransportConfigError).with.property('code', 'TRANSPORT_BAD_ALLOW_LIST_ENTRY');
      }
    });
  });

  let listener: Listener | undefined;
  afterEach(async () => {
    await listener?.closeAll({ graceMs: 200 });
    listener = undefined;
  });

  it('reports the port it bound', async () => {
    listener = await startListener({ port: 0, framing: binary2, onConnection: () => ({ onMessage: () => undefined }) });
    expect(listener.port).to.be.greaterThan(0);
    expect(listener.host).to.equal('127.0.0.1');
  });

  it('fails to start on a port in use', async () => {
    listener = await startListener({ port: 0, framing: binary2, onConnection: () => ({ onMessage: () => undefined }) });
    const port = listener.port;
    let error: NodeJS.ErrnoException | undefined;
    await startListener({ port, framing: binary2, onConnection: () => ({ onMessage: () => undefined }) }).catch((err: NodeJS.ErrnoException) => (error = err));
    expect(error?.code).to.equal('EADDRINUSE');
  });

  it('closes a peer not on the allow-list at accept, before reading anything', async () => {
    const refusals: Refusal[] = [];
    let accepted = 0;
    listener = await startListener({
      port: 0,
      framing: binary2,
      allowList: ['10.0.0.1/32'],
      onConnection: () => (accepted++, { onMessage: () => Buffer.from('should not happen') }),
      onRefused: (r) => refusals.push(r),
    });
    const peer = await TestPeer.connect(listener.port);
    peer.send('0800');
    await peer.waitClosed();
    expect(peer.frames).to.have.length(0);
    expect(accepted).to.equal(0);
    expect(refusals).to.have.length(1);
    expect(refusals[0]).to.include({ reason: 'ADDRESS_NOT_ALLOWED', remoteAddress: '127.0.0.1' });
  });

  it('accepts a listed peer, also on a dual-stack listener where it appears as ::ffff:127.0.0.1', async function () {
    try {
      listener = await startListener({ host: '::', port: 0, framing: binary2, allowList: ['127.0.0.0/8'], onConnection: () => ({ onMessage: (b) => b }) });
    } catch {
      this.skip(); // no IPv6 on this machine
    }
    const peer = await TestPeer.connect(listener!.port);
    peer.send('echo');
    expect(await peer.waitFrames(1)).to.deep.equal(['echo']);
    expect([...listener!.connections][0]!.peer.remoteAddress).to.equal('127.0.0.1');
    peer.socket.destroy();
  });

  it('refuses connections beyond maxConnections, and accepts again once one closes', async () => {
    const refusals: Refusal[] = [];
    listener = await startListener({
      port: 0,
      framing: binary2,
      maxConnections: 1,
      onConnection: () => ({ onMessage: (b) => b }),
      onRefused: (r) => refusals.push(r),
    });
    const first = await TestPeer.connect(listener.port);
    first.send('one');
    await first.waitFrames(1);
    const second = await TestPeer.connect(listener.port);
    second.send('two');
    await second.waitClosed();
    expect(second.frames).to.have.length(0);
    expect(refusals.map((r) => r.reason)).to.deep.equal(['TOO_MANY_CONNECTIONS']);

    first.socket.end();
    await first.waitClosed();
    await waitFor(() => listener!.connections.size === 0, { what: 'the first connection to go' });
    const third = await TestPeer.connect(listener.port);
    third.send('three');
    expect(await third.waitFrames(1)).to.deep.equal(['three']);
    third.socket.destroy();
  });

  it('closes the connection and carries on when onConnection throws', async () => {
    let calls = 0;
    listener = await startListener({
      port: 0,
      framing: binary2,
      onConnection: () => {
        if (++calls === 1) throw new Error('no session');
        return { onMessage: (b) => b };
      },
    });
    const first = await TestPeer.connect(listener.port);
    await first.waitClosed();
    const second = await TestPeer.connect(listener.port);
    second.send('ok');
    expect(await second.waitFrames(1)).to.deep.equal(['ok']);
    second.socket.destroy();
  });

  it('close() stops accepting but keeps open connections', async () => {
    listener = await startListener({ port: 0, framing: binary2, onConnection: () => ({ onMessage: (b) => b }) });
    const peer = await TestPeer.connect(listener.port);
    listener.close();
    peer.send('still here');
    expect(await peer.waitFrames(1)).to.deep.equal(['still here']);
    const code = await new Promise<string>((resolve) => {
      net.connect({ host: '127.0.0.1', port: listener!.port }).on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? '')).on('connect', () => resolve('connected'));
    });
    expect(code).to.equal('ECONNREFUSED');
    peer.socket.destroy();
  });
});
