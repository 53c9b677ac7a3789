import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createCertificateAuthority, issueCertificate, type PemKeyPair } from '../../../src/transport/tls/dev-certificates.js';
import { demo, startTestIssuer, startTestRest, type TestIssuer, type TestRest } from '../../support/index.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function thumbprint(pair: PemKeyPair): string {
  return createHash('sha256').update(new X509Certificate(pair.certPem).raw).digest('base64url');
}

describe('channels/rest: kiosks over mutual TLS, tokens bound to the device certificate (RFC 8705)', function () {
  this.timeout(60_000);
  let issuer: TestIssuer;
  let api: TestRest;
  let caPem: string;
  let kiosk1: PemKeyPair;
  let kiosk2: PemKeyPair;

  const post = (client: PemKeyPair | undefined, token: string, body: unknown): Promise<Answer> => new Promise((resolve, reject) => {
    const url = new URL(`${api.url}/v1/balance-inquiries`);
    const req = request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', ca: caPem,
      ...(client ? { key: client.keyPem, cert: client.certPem } : {}),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  const kioskToken = (bound: PemKeyPair | undefined) => issuer.token({
    client_id: 'kiosk-1', sub: 'kiosk-1', scope: 'jht:balance:kiosk', ...(bound ? { cnf: { 'x5t#S256': thumbprint(bound) } } : {}),
  });

  before(async () => {
    const ca = createCertificateAuthority('jht-switch test CA');
    caPem = ca.certPem;
    const server = issueCertificate(ca, { commonName: 'jht-switch', usage: 'server', altNames: ['127.0.0.1'] });
    kiosk1 = issueCertificate(ca, { commonName: 'kiosk-1', usage: 'client' });
    kiosk2 = issueCertificate(ca, { commonName: 'kiosk-2', usage: 'client' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jht-rest-tls-'));
    await writeFile(path.join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
    await writeFile(path.join(dir, 'server.crt'), server.certPem);
    await writeFile(path.join(dir, 'ca.crt'), ca.certPem);
    issuer = await startTestIssuer();
    api = await startTestRest(issuer, {
      channels: { rest: { tls: { keyFile: path.join(dir, 'server.key'), certFile: path.join(dir, 'server.crt'), caFile: path.join(dir, 'ca.crt') } } },
    } as never);
  });
  after(async () => {
    await api?.stop();
    await issuer?.close();
  });

  it('answers a kiosk that gives the KPJ and the matching NIK, over its own certificate', async () => {
    const answer = await post(kiosk1, await kioskToken(kiosk1), { kpj: demo.approved.kpj, nik: demo.approved.nik });
    expect(answer.status).to.equal(200);
    expect(answer.body).to.include({ kpj: demo.approved.kpj, name: demo.approved.name });
  });

  it('a NIK that does not match is the neutral 404; a KPJ without a NIK is 422', async () => {
    const token = await kioskToken(kiosk1);
    const wrong = await post(kiosk1, token, { kpj: demo.approved.kpj, nik: demo.second.nik });
    expect(wrong.status).to.equal(404);
    expect(wrong.body).to.include({ type: 'urn:jht-switch:problem:not-found' });
    const missing = await post(kiosk1, token, { kpj: demo.approved.kpj });
    expect(missing.status).to.equal(422);
  });

  it('a kiosk token over another device\'s certificate, or bound to none, is 403 insufficient-scope', async () => {
    for (const [client, token] of [[kiosk2, await kioskToken(kiosk1)], [kiosk1, await kioskToken(undefined)]] as const) {
      const answer = await post(client, token, { kpj: demo.approved.kpj, nik: demo.approved.nik });
      expect(answer.status).to.equal(403);
      expect(answer.body).to.include({ type: 'urn:jht-switch:problem:insufficient-scope' });
    }
  });

  it('a client without a certificate from the CA never gets to HTTP', async () => {
    const error = await post(undefined, await kioskToken(kiosk1), { kpj: demo.approved.kpj, nik: demo.approved.nik }).then(() => undefined, (e: unknown) => e);
    expect(error, 'the handshake is refused').to.be.instanceOf(Error);
  });

  it('the other channels use the same mutual TLS: a self token from the app\'s back-end', async () => {
    const token = await issuer.token({ client_id: 'app-1', sub: demo.approved.kpj, scope: 'jht:balance:self' });
    expect((await post(kiosk2, token, { kpj: demo.approved.kpj })).status).to.equal(200);
  });
});
