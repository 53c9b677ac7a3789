import { expect } from 'chai';
import net from 'node:net';
import tls from 'node:tls';
import { parseProxyHeader, ProxyHeaderError, PROXY_V2_SIGNATURE } from '../../src/transport/proxy-protocol.js';
import { startListener, type Listener, type ListenerOptions, type Refusal } from '../../src/transport/index.js';
import { createCertificateAuthority, issueCertificate } from '../../src/transport/tls/dev-certificates.js';
import { binary2, expectThrows, proxyHeaderFor, TestPeer, waitFor } from '../support/index.js';

const CLIENT = { address: '203.0.113.7', port: 40_001 };
const SWITCH = { address: '10.0.0.10', port: 8583 };

/** A raw header: signature, version/command, family/transport, length, then the address block. */
function rawHeader(command: number, familyTransport: number, addresses: Buffer): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = 0x20 | command;
  fixed[1] = familyTransport;
  fixed.writeUInt16BE(addresses.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, fixed, addresses]);
}

function connectFrom(port: number, localAddress: string): Promise<TestPeer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(new TestPeer(socket)));
    socket.once('error', reject);
  });
}

describe('transport: PROXY protocol v2', () => {
  describe('parseProxyHeader', () => {
    it('reads a TCP4 source address (what HAProxy send-proxy-v2 sends)', () => {
      expect(parseProxyHeader(proxyHeaderFor(CLIENT, SWITCH))).to.deep.equal({ command: 'PROXY', source: CLIENT });
    });

    it('reads a TCP6 source address, an IPv4-mapped one as IPv4, and LOCAL (a health check)', () => {
      const addr = (hex: string) => Buffer.from(hex.padStart(32, '0'), 'hex');
      const ports = Buffer.from([0x9c, 0x41, 0x21, 0x87]); // 40001, 8583
      const tcp6 = rawHeader(1, 0x21, Buffer.concat([Buffer.from('20010db8000000000000000000000001', 'hex'), addr('1'), ports]));
      expect(parseProxyHeader(tcp6)).to.deep.equal({ command: 'PROXY', source: { address: '2001:db8::1', port: 40_001 } });
      const mapped = rawHeader(1, 0x21, Buffer.concat([addr('ffffcb007107'), addr('1'), ports]));
      expect(parseProxyHeader(mapped)).to.deep.equal({ command: 'PROXY', source: { address: '203.0.113.7', port: 40_001 } });
      expect(parseProxyHeader(rawHeader(0, 0x00, Buffer.alloc(0)))).to.deep.equal({ command: 'LOCAL' });
    });

    it('refuses a header that is not TCP over IPv4/IPv6, or not a header', () => {
      const udp = rawHeader(1, 0x12, Buffer.alloc(12));
      expect(expectThrows(() => parseProxyHeader(udp), ProxyHeaderError).code).to.equal('PROXY_HEADER_INVALID');
      expectThrows(() => parseProxyHeader(rawHeader(1, 0x31, Buffer.alloc(216))), ProxyHeaderError);
      expectThrows(() => parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n')), ProxyHeaderError);
    });
  });

  describe('a listener behind a trusted proxy (127.0.0.1) and a direct peer (127.0.0.3)', () => {
    let listener: Listener;
    const refusals: Refusal[] = [];
    const peers: string[] = [];

    async function listen(extra: Partial<ListenerOptions> = {}): Promise<Listener> {
      return startListener({
        port: 0,
        framing: binary2,
        trustedProxies: ['127.0.0.1'],
        allowList: ['203.0.113.0/24', '127.0.0.0/8'],
        preambleDeadlineMs: 500,
        onConnection(connection) {
          peers.push(`${connection.peer.remoteAddress}:${connection.peer.remotePort}`);
          return { onMessage: (body) => Buffer.concat([Buffer.from('re:'), body]) };
        },
        onRefused: (r) => refusals.push(r),
        ...extra,
      });
    }

    beforeEach(async () => {
      refusals.length = 0;
      peers.length = 0;
      listener = await listen();
    });
    afterEach(async () => listener.closeAll({ graceMs: 100 }));

    it('uses the address the header carries, for the connection and for the allow-list', async () => {
      const peer = await connectFrom(listener.port, '127.0.0.1');
      peer.write(Buffer.concat([proxyHeaderFor(CLIENT, SWITCH), binary2.frame(Buffer.from('0800'))]));
      expect(await peer.waitFrames(1)).to.deep.equal(['re:0800']);
      expect(peers).to.deep.equal(['203.0.113.7:40001']);
      peer.close();

      const outsider = await connectFrom(listener.port, '127.0.0.1');
      outsider.write(proxyHeaderFor({ address: '198.51.100.9', port: 1234 }, SWITCH));
      await outsider.waitClosed();
      expect(refusals.map((r) => [r.reason, r.remoteAddress, r.via])).to.deep.equal([['ADDRESS_NOT_ALLOWED', '198.51.100.9', '127.0.0.1']]);
    });

    it('refuses a trusted proxy\'s connection without a header, or with none in time', async () => {
      const bare = await connectFrom(listener.port, '127.0.0.1');
      bare.send('0800');
      await bare.waitClosed();
      const silent = await connectFrom(listener.port, '127.0.0.1');
      await silent.waitClosed(2_000);
      expect(refusals.map((r) => [r.reason, r.detail])).to.deep.equal([['PROXY_HEADER_MISSING', undefined], ['PROXY_HEADER_MISSING', 'timeout']]);
      expect(peers).to.deep.equal([]);
    });

    it('refuses a PROXY header from a peer that is not a trusted proxy, before any frame is read', async () => {
      const direct = await connectFrom(listener.port, '127.0.0.3');
      // Byte by byte: the signature is recognised however it is split.
      for (const byte of proxyHeaderFor(CLIENT, SWITCH)) direct.write(Buffer.from([byte]));
      direct.send('0800');
      await direct.waitClosed();
      await waitFor(() => refusals.length === 1, { what: 'the refusal' });
      expect(refusals[0]).to.deep.include({ reason: 'PROXY_HEADER_UNTRUSTED', remoteAddress: '127.0.0.3' });
      expect(direct.frames).to.deep.equal([]);
      // The same peer without a header is served as itself.
      const plain = await connectFrom(listener.port, '127.0.0.3');
      plain.send('0800');
      expect(await plain.waitFrames(1)).to.deep.equal(['re:0800']);
      plain.close();
    });

    it('takes LOCAL (the proxy\'s health check) as the proxy\'s own connection', async () => {
      const check = await connectFrom(listener.port, '127.0.0.1');
      check.write(Buffer.concat([rawHeader(0, 0, Buffer.alloc(0)), binary2.frame(Buffer.from('0800'))]));
      expect(await check.waitFrames(1)).to.deep.equal(['re:0800']);
      expect(peers[0]).to.match(/^127\.0\.0\.1:/);
      check.close();
    });

    it('reads the header before the TLS handshake, and binds the TLS session to the carried address', async function () {
      this.timeout(10_000);
      const ca = createCertificateAuthority('proxy test CA');
      const server = issueCertificate(ca, { commonName: 'jht-switch', usage: 'server', altNames: ['127.0.0.1'] });
      const client = issueCertificate(ca, { commonName: 'bank-p', usage: 'client' });
      const tlsListener = await listen({ tls: { key: server.keyPem, cert: server.certPem, ca: ca.certPem, expectedSubject: 'bank-p' } });
      try {
        const raw = net.connect({ host: '127.0.0.1', port: tlsListener.port });
        await new Promise((resolve) => raw.once('connect', resolve));
        raw.write(proxyHeaderFor(CLIENT, SWITCH));
        const secured = await new Promise<tls.TLSSocket>((resolve, reject) => {
          const s = tls.connect({ socket: raw, ca: ca.certPem, key: client.keyPem, cert: client.certPem, servername: 'localhost', checkServerIdentity: () => undefined }, () => resolve(s));
          s.once('error', reject);
        });
        const peer = new TestPeer(secured);
        peer.send('0800');
        expect(await peer.waitFrames(1)).to.deep.equal(['re:0800']);
        expect(peers).to.deep.equal(['203.0.113.7:40001']);
        peer.close();
      } finally {
        await tlsListener.closeAll({ graceMs: 100 });
      }
    });
  });
});
