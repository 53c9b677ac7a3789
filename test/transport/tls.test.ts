import { expect } from 'chai';
import fc from 'fast-check';
import tls from 'node:tls';
import { startDialer, startListener, TransportConfigError, type Listener, type Refusal, type ServerTlsOptions } from '../../src/transport/index.js';
import { createCertificateAuthority, issueCertificate, serialNumber, type CertificateAuthority, type PemKeyPair } from '../../src/transport/tls/dev-certificates.js';
import { binary2, TestPeer, waitFor } from '../support/index.js';

const PARTNER = '99901';
const DAY = 86_400_000;

interface Certs {
  ca: CertificateAuthority;
  server: PemKeyPair;
  client: PemKeyPair;
  otherCaClient: PemKeyPair;
  expiredClient: PemKeyPair;
  otherPartnerClient: PemKeyPair;
}

/** What a refused client saw: whether its side of the handshake finished, what came back, how it ended. */
interface Attempt {
  secured: boolean;
  framesReceived: number;
  errorCode: string | undefined;
}

describe('transport TLS: development certificates', () => {
  it('gives every serial number a minimal positive DER encoding (first byte 0x01-0x7f), whatever the random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (random) => {
      const first = Number.parseInt(serialNumber(Buffer.from(random)).slice(0, 2), 16);
      return first >= 0x01 && first <= 0x7f;
    }), { numRuns: 2_000 });
    expect(serialNumber(Buffer.alloc(16, 0)).slice(0, 2), 'the case Node 26 refused: a zero first byte').to.equal('01');
  });
});

describe('transport TLS', function () {
  let certs: Certs;
  let listener: Listener;
  const refusals: Refusal[] = [];
  const subjects: Array<string | undefined> = [];
  let messagesHandled = 0;

  before(async function () {
    this.timeout(20_000);
    const ca = createCertificateAuthority('jht-switch test CA');
    const otherCa = createCertificateAuthority('some other CA');
    certs = {
      ca,
      server: issueCertificate(ca, { commonName: 'jht-switch', usage: 'server', altNames: ['127.0.0.1', 'localhost'] }),
      client: issueCertificate(ca, { commonName: PARTNER, usage: 'client' }),
      otherCaClient: issueCertificate(otherCa, { commonName: PARTNER, usage: 'client' }),
      expiredClient: issueCertificate(ca, { commonName: PARTNER, usage: 'client', notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) }),
      otherPartnerClient: issueCertificate(ca, { commonName: '99902', usage: 'client' }),
    };
    listener = await startListener({
      port: 0,
      framing: binary2,
      tls: { key: certs.server.keyPem, cert: certs.server.certPem, ca: certs.ca.certPem, expectedSubject: PARTNER },
      onConnection(connection) {
        subjects.push(connection.peer.tlsSubject);
        return {
          onMessage(body) {
            messagesHandled++;
            return Buffer.concat([Buffer.from('re:'), body]);
          },
        };
      },
      onRefused: (r) => refusals.push(r),
    });
  });

  after(async () => {
    await listener?.closeAll({ graceMs: 200 });
  });

  beforeEach(() => {
    refusals.length = 0;
    subjects.length = 0;
    messagesHandled = 0;
  });

  function attempt(options: tls.ConnectionOptions): Promise<Attempt> {
    return new Promise((resolve) => {
      const result: Attempt = { secured: false, framesReceived: 0, errorCode: undefined };
      const socket = tls.connect({ host: '127.0.0.1', port: listener.port, ca: certs.ca.certPem, ...options }, () => {
        result.secured = true;
        socket.write(binary2.frame(Buffer.from('0800')));
      });
      socket.on('data', () => result.framesReceived++);
      socket.on('error', (err: NodeJS.ErrnoException) => (result.errorCode ??= err.code));
      socket.on('close', () => resolve(result));
    });
  }

  async function expectRefused(options: tls.ConnectionOptions, reason: Refusal['reason'], detail?: string): Promise<void> {
    const result = await attempt(options);
    expect(result.framesReceived, 'frames received').to.equal(0);
    await waitFor(() => refusals.length === 1, { what: 'the refusal' });
    expect(messagesHandled, 'messages handled').to.equal(0);
    expect(subjects, 'connections handed to the switch').to.deep.equal([]);
    expect(refusals[0]!.reason).to.equal(reason);
    if (detail !== undefined) expect(refusals[0]!.detail).to.equal(detail);
  }

  it('accepts the partner certificate and exchanges a frame', async () => {
    const peer = await TestPeer.connectTls(listener.port, { ca: certs.ca.certPem, key: certs.client.keyPem, cert: certs.client.certPem });
    peer.send('0800');
    expect(await peer.waitFrames(1)).to.deep.equal(['re:0800']);
    expect(subjects).to.deep.equal([PARTNER]);
    peer.socket.destroy();
  });

  it('accepts TLS 1.2', async () => {
    const peer = await TestPeer.connectTls(listener.port, { ca: certs.ca.certPem, key: certs.client.keyPem, cert: certs.client.certPem, maxVersion: 'TLSv1.2' });
    expect((peer.socket as tls.TLSSocket).getProtocol()).to.equal('TLSv1.2');
    peer.send('0800');
    expect(await peer.waitFrames(1)).to.deep.equal(['re:0800']);
    peer.socket.destroy();
  });

  it('refuses a client without a certificate', async () => {
    await expectRefused({}, 'TLS_HANDSHAKE_FAILED', 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
  });

  it('refuses a certificate from another CA', async () => {
    await expectRefused({ key: certs.otherCaClient.keyPem, cert: certs.otherCaClient.certPem }, 'TLS_HANDSHAKE_FAILED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('refuses an expired certificate', async () => {
    await expectRefused({ key: certs.expiredClient.keyPem, cert: certs.expiredClient.certPem }, 'TLS_HANDSHAKE_FAILED', 'CERT_HAS_EXPIRED');
  });

  it('refuses a valid certificate of another partner (CN)', async () => {
    await expectRefused({ key: certs.otherPartnerClient.keyPem, cert: certs.otherPartnerClient.certPem }, 'TLS_SUBJECT_NOT_EXPECTED');
  });

  it('refuses TLS 1.1', async () => {
    await expectRefused(
      // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the server's.
      { key: certs.client.keyPem, cert: certs.client.certPem, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
      'TLS_HANDSHAKE_FAILED',
      'ERR_SSL_UNSUPPORTED_PROTOCOL',
    );
  });

  it('will not start a partner listener without client-certificate verification or below TLS 1.2', async () => {
    const base = { key: certs.server.keyPem, cert: certs.server.certPem, ca: certs.ca.certPem };
    for (const loose of [{ rejectUnauthorized: false }, { requestCert: false }, { minVersion: 'TLSv1.1' }]) {
      let error: unknown;
      await startListener({ port: 0, framing: binary2, tls: { ...base, ...loose } as unknown as ServerTlsOptions, onConnection: () => ({ onMessage: () => undefined }) }).catch(
        (err: unknown) => (error = err),
      );
      expect(error, JSON.stringify(loose)).to.be.instanceOf(TransportConfigError);
    }
  });

  it('dials out with the client certificate, verifying the server against the CA', async () => {
    const connected: Array<string | undefined> = [];
    const dialer = startDialer({
      host: '127.0.0.1',
      port: listener.port,
      framing: binary2,
      tls: { key: certs.client.keyPem, cert: certs.client.certPem, ca: certs.ca.certPem },
      onConnected(connection) {
        connected.push(connection.peer.tlsSubject);
        connection.send(Buffer.from('0800 sign-on'));
        return { onMessage: () => undefined };
      },
    });
    try {
      await waitFor(() => messagesHandled === 1, { what: 'the sign-on to reach the listener' });
      expect(connected).to.deep.equal(['jht-switch']); // the server certificate's CN
      expect(subjects).to.deep.equal([PARTNER]);
    } finally {
      await dialer.stop({ graceMs: 200 });
    }
  });
});
