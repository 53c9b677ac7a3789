import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type tls from 'node:tls';
import { balanceInquiry, networkRequest } from '../../../src/client/atm-messages.js';
import { IsoClient } from '../../../src/client/iso-client.js';
import type { PartnerConfig, SwitchConfigInput } from '../../../src/config/schema.js';
import { Packager, loadProfile } from '../../../src/iso8583/index.js';
import { createCertificateAuthority, issueCertificate } from '../../../src/transport/tls/dev-certificates.js';
import {
  demo, expectedAdditionalAmounts, startTestSwitch, TestPeer, uniqueStan, waitFor, type TestSwitch,
} from '../../support/index.js';

type PartnerInput = NonNullable<SwitchConfigInput['partners']>[number];
const DEMO: PartnerInput = { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] };

function inquiryFor(client: IsoClient, acquirerId: string, pan = demo.approvedCard) {
  return balanceInquiry({ stan: client.nextStan(), acquirerId, terminalId: 'ATMBANKB', pan });
}

async function signOn(client: IsoClient): Promise<void> {
  expect((await client.request(networkRequest(client.nextStan(), '001'))).get(39)).to.equal('00');
}

function portOf(sw: TestSwitch, partnerId: string): number {
  const listener = sw.running.network.listenerOf(partnerId);
  if (!listener) throw new Error(`no listener for ${partnerId}`);
  return listener.port;
}

describe('switch: partner banks, each with its own framing and profile', function () {
  this.timeout(60_000);
  const variants: { framing: PartnerConfig['framing']; profile: string }[] = [
    { framing: { type: 'binary-2', headerCountsItself: false }, profile: 'iso87-binary' },
    { framing: { type: 'ascii-4', headerCountsItself: false }, profile: 'iso87-ascii' },
    { framing: { type: 'ascii-4', headerCountsItself: true }, profile: 'iso87-binary' },
    { framing: { type: 'binary-2-tpdu', headerCountsItself: false }, profile: 'iso87-ascii' },
    { framing: { type: 'binary-2', headerCountsItself: true }, profile: 'iso87-ascii' },
  ];
  let sw: TestSwitch;

  before(async () => {
    sw = await startTestSwitch({
      partners: [DEMO, ...variants.map((v, i) => ({
        id: `bank-${i}`, name: `Bank ${i}`, acquirerIds: [`9980${i}`], listener: { host: '127.0.0.1', port: 0 },
        framing: v.framing, profile: v.profile,
      }))],
    });
  });
  after(async () => sw.stop());

  variants.forEach((variant, i) => {
    it(`${variant.framing.type}${variant.framing.headerCountsItself ? ' (header counts itself)' : ''} with ${variant.profile}`, async () => {
      const client = await IsoClient.connect({
        port: portOf(sw, `bank-${i}`),
        profile: variant.profile,
        framing: { name: variant.framing.type, lengthIncludesHeader: variant.framing.headerCountsItself, tpdu: { destination: 0x0001, source: 0x0203 } },
      });
      try {
        await signOn(client);
        const answer = await client.request(inquiryFor(client, `9980${i}`, demo.secondCard));
        expect([answer.mti, answer.get(39), answer.get(54)]).to.deep.equal(['0210', '00', expectedAdditionalAmounts(demo.second)]);
      } finally {
        await client.close();
      }
    });
  });

  it('answers a TPDU frame with source and destination swapped', async () => {
    const i = variants.findIndex((v) => v.framing.type === 'binary-2-tpdu');
    const peer = await TestPeer.connect(portOf(sw, `bank-${i}`));
    const packager = new Packager(loadProfile('iso87-ascii'));
    const echo = packager.pack(networkRequest(uniqueStan(), '301'));
    const tpdu = Buffer.from([0x60, 0x00, 0x01, 0x02, 0x03]);
    peer.send(Buffer.concat([tpdu, echo]));
    await peer.waitFrames(1);
    expect([...peer.frames[0]!.body.subarray(0, 5)]).to.deep.equal([0x60, 0x02, 0x03, 0x00, 0x01]);
    expect(packager.unpack(peer.frames[0]!.body.subarray(5)).get(39)).to.equal('00');
    peer.close();
  });

  it('field 32 must belong to the partner bound to the connection: another bank\'s acquirer gets 58', async () => {
    const client = await IsoClient.connect({ port: portOf(sw, 'bank-1'), framing: 'ascii-4' });
    try {
      await signOn(client);
      expect((await client.request(inquiryFor(client, '99901'))).get(39)).to.equal('58');
      expect((await client.request(inquiryFor(client, '99800'))).get(39)).to.equal('58');
      expect((await client.request(inquiryFor(client, '99801'))).get(39)).to.equal('00');
    } finally {
      await client.close();
    }
  });
});

describe('switch: who may connect', function () {
  this.timeout(60_000);
  let dir: string;
  let sw: TestSwitch;
  const files: Record<string, string> = {};

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-partners-'));
    const ca = createCertificateAuthority('test CA');
    const otherCa = createCertificateAuthority('another CA');
    const pems: Record<string, string> = {
      'ca.pem': ca.certPem,
      ...pair('server', issueCertificate(ca, { commonName: 'jht-switch', usage: 'server', altNames: ['127.0.0.1'] })),
      ...pair('good', issueCertificate(ca, { commonName: 'bank-tls', usage: 'client' })),
      ...pair('other-ca', issueCertificate(otherCa, { commonName: 'bank-tls', usage: 'client' })),
      ...pair('expired', issueCertificate(ca, { commonName: 'bank-tls', usage: 'client', notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) })),
      ...pair('other-partner', issueCertificate(ca, { commonName: 'bank-else', usage: 'client' })),
    };
    for (const [name, pem] of Object.entries(pems)) {
      files[name] = path.join(dir, name);
      await writeFile(files[name]!, pem, { mode: 0o600 });
    }
    sw = await startTestSwitch({
      // Refusals are logged as a summary per interval: a short one, so the test reads it soon.
      transport: { refusalLogIntervalMs: 100 },
      partners: [
        { ...DEMO, limits: { maxConnections: 2, maxInFlight: 512 } },
        { id: 'bank-tls', name: 'TLS Bank', acquirerIds: ['99811'], listener: { host: '127.0.0.1', port: 0 },
          tls: { keyFile: files['server.key']!, certFile: files['server.cert']!, caFile: files['ca.pem']!, clientSubject: 'bank-tls' } },
        { id: 'bank-far', name: 'Far Bank', acquirerIds: ['99812'], listener: { host: '127.0.0.1', port: 0 }, allowFrom: ['10.0.0.1/32'] },
      ],
    });
  });
  after(async () => {
    await sw?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function pair(name: string, p: { certPem: string; keyPem: string }): Record<string, string> {
    return { [`${name}.cert`]: p.certPem, [`${name}.key`]: p.keyPem };
  }

  async function tlsClient(cert?: string): Promise<IsoClient> {
    const options: tls.ConnectionOptions = { ca: readFileSync(files['ca.pem']!), minVersion: 'TLSv1.2' };
    if (cert) Object.assign(options, { cert: readFileSync(files[`${cert}.cert`]!), key: readFileSync(files[`${cert}.key`]!) });
    return IsoClient.connect({ port: portOf(sw, 'bank-tls'), tls: options, timeoutMs: 3_000 });
  }

  it('mutual TLS: the partner\'s certificate is served', async () => {
    const client = await tlsClient('good');
    try {
      await signOn(client);
      expect((await client.request(inquiryFor(client, '99811'))).get(39)).to.equal('00');
    } finally {
      await client.close();
    }
  });

  for (const [label, cert] of [['no certificate', undefined], ['another CA', 'other-ca'], ['an expired certificate', 'expired'], ["another partner's certificate", 'other-partner']] as const) {
    it(`mutual TLS: ${label} is refused before any ISO 8583 byte is read`, async () => {
      const before = sw.logs.lines.filter((l) => l.includes('"msg":"transaction"')).length;
      let refused = false;
      try {
        const client = await tlsClient(cert);
        // TLS 1.3 reports a rejected client certificate after the handshake: the first request fails.
        await client.request(networkRequest(client.nextStan(), '301')).catch(() => (refused = true));
        await client.close().catch(() => undefined);
      } catch {
        refused = true;
      }
      expect(refused).to.equal(true);
      expect(sw.logs.lines.filter((l) => l.includes('"msg":"transaction"')).length).to.equal(before);
    });
  }

  it('closes at accept an address that is not on the partner\'s allow-list', async () => {
    const peer = await TestPeer.connect(portOf(sw, 'bank-far'));
    await peer.waitClosed();
  });

  it('refuses connections beyond the partner\'s maximum', async () => {
    const a = await sw.client();
    const b = await sw.client();
    const third = await TestPeer.connect(sw.port);
    await third.waitClosed();
    await a.close();
    await b.close();
    await waitFor(() => sw.logs.text.includes('TOO_MANY_CONNECTIONS'), { what: 'the refusal in the log' });
  });
});
