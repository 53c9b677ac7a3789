import { expect } from 'chai';
import tls from 'node:tls';
import { startListener, type Listener, type Refusal } from '../../src/transport/index.js';
import { clientTlsConnectOptions } from '../../src/transport/tls/client-tls.js';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority, type PemKeyPair } from '../../src/transport/tls/dev-certificates.js';
import { binary2, waitFor } from '../support/index.js';

interface Handshake {
  ok: boolean;
  protocol?: string | null;
  cipher?: string;
  errorCode?: string;
}

/**
 * A real handshake from a node:tls client offering exactly what `options` says; ok once a frame came back
 * (with TLS 1.3 the server refuses a certificate after the client's side of the handshake has finished).
 */
function handshake(port: number, options: tls.ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    let errorCode: string | undefined;
    const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => {
      const result = { ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().standardName };
      socket.write(binary2.frame(Buffer.from('0800')));
      socket.once('data', () => {
        socket.destroy();
        resolve(result);
      });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (errorCode ??= error.code ?? error.message));
    socket.on('close', () => resolve({ ok: false, ...(errorCode !== undefined ? { errorCode } : {}) }));
  });
}

describe('transport TLS policy: TLS 1.2 with ECDHE + AEAD only, or TLS 1.3; identity by name and issuer', function () {
  this.timeout(20_000);
  let caA: CertificateAuthority;
  let caB: CertificateAuthority;
  let server: PemKeyPair;
  let client: PemKeyPair;
  let listener: Listener;
  const refusals: Refusal[] = [];

  before(async () => {
    caA = createCertificateAuthority('Bank A CA');
    caB = createCertificateAuthority('Bank B CA');
    server = issueCertificate(caA, { commonName: 'jht-switch', usage: 'server', altNames: ['127.0.0.1'] });
    client = issueCertificate(caA, { commonName: 'bank-a', usage: 'client' });
    listener = await startListener({
      port: 0,
      framing: binary2,
      // A CA bundle trusted for two banks; the partner is bound to its own CA, not only to its CN.
      tls: { key: server.keyPem, cert: server.certPem, ca: [caA.certPem, caB.certPem], expectedSubject: 'bank-a', expectedIssuers: caA.certPem },
      onConnection: () => ({ onMessage: (body) => body }),
      onRefused: (r) => refusals.push(r),
    });
  });
  after(async () => listener?.closeAll({ graceMs: 100 }));
  beforeEach(() => (refusals.length = 0));

  const base = () => ({ ca: caA.certPem, key: client.keyPem, cert: client.certPem });

  for (const suite of ['AES128-SHA', 'AES256-SHA256', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384']) {
    it(`refuses a TLS 1.2 client offering only ${suite}`, async () => {
      const result = await handshake(listener.port, { ...base(), maxVersion: 'TLSv1.2', ciphers: suite });
      expect(result.ok, JSON.stringify(result)).to.equal(false);
      await waitFor(() => refusals.length === 1, { what: 'the refusal' });
      expect(refusals[0]!.reason).to.equal('TLS_HANDSHAKE_FAILED');
    });
  }

  it('refuses TLS 1.1 and TLS 1.0', async () => {
    for (const version of ['TLSv1.1', 'TLSv1'] as const) {
      const result = await handshake(listener.port, { ...base(), minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' });
      expect(result.ok, version).to.equal(false);
    }
    // Both refusals are in before the next test: a late one would be taken for that test's own.
    await waitFor(() => refusals.length === 2, { what: 'both refusals' });
    expect(refusals.map((r) => r.reason)).to.deep.equal(['TLS_HANDSHAKE_FAILED', 'TLS_HANDSHAKE_FAILED']);
  });

  for (const suite of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
    it(`accepts TLS 1.2 with ${suite}`, async () => {
      const result = await handshake(listener.port, { ...base(), maxVersion: 'TLSv1.2', ciphers: suite });
      expect(result).to.deep.include({ ok: true, protocol: 'TLSv1.2' });
    });
  }

  it('accepts TLS 1.3', async () => {
    expect(await handshake(listener.port, base())).to.deep.include({ ok: true, protocol: 'TLSv1.3' });
  });

  it('refuses a certificate with the right CN from another CA in the bundle', async () => {
    const impostor = issueCertificate(caB, { commonName: 'bank-a', usage: 'client' });
    const result = await handshake(listener.port, { ca: caA.certPem, key: impostor.keyPem, cert: impostor.certPem });
    expect(result.ok).to.equal(false);
    await waitFor(() => refusals.length === 1, { what: 'the refusal' });
    expect(refusals[0]!.reason).to.equal('TLS_ISSUER_NOT_EXPECTED');
  });

  it('accepts the partner named in a DNS subject alternative name, and refuses another name', async () => {
    const bySan = issueCertificate(caA, { commonName: 'atm-host-7', usage: 'client', altNames: ['bank-a'] });
    expect(await handshake(listener.port, { ca: caA.certPem, key: bySan.keyPem, cert: bySan.certPem })).to.deep.include({ ok: true });
    const other = issueCertificate(caA, { commonName: 'bank-c', usage: 'client', altNames: ['bank-c.example'] });
    expect((await handshake(listener.port, { ca: caA.certPem, key: other.keyPem, cert: other.certPem })).ok).to.equal(false);
    await waitFor(() => refusals.length === 1, { what: 'the refusal' });
    expect(refusals[0]!.reason).to.equal('TLS_SUBJECT_NOT_EXPECTED');
  });

  it('a dial-out refuses a bank host that offers only a static-RSA suite', async () => {
    const weak = tls.createServer({ key: server.keyPem, cert: server.certPem, maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA256' });
    await new Promise<void>((resolve) => weak.listen(0, '127.0.0.1', resolve));
    const port = (weak.address() as { port: number }).port;
    try {
      const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
        const socket = tls.connect(clientTlsConnectOptions('127.0.0.1', port, { key: client.keyPem, cert: client.certPem, ca: caA.certPem }));
        socket.on('secureConnect', () => resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' })));
        socket.on('error', resolve);
      });
      expect(error.code).to.not.equal('CONNECTED');
    } finally {
      weak.close();
    }
  });
});
