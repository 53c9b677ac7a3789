import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { switchConfigSchema, type SwitchConfig } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startSwitch, type RunningSwitch } from '../../../src/channels/atm/jht-switch.js';
import { createCertificateAuthority, createRevocationList, issueCertificate, type CertificateAuthority, type PemKeyPair } from '../../../src/transport/tls/dev-certificates.js';
import { binary2, getTestDatabase, LogCapture } from '../../support/index.js';

interface Outcome {
  answered: boolean;
  serverSerial?: string;
}

describe('switch: TLS files re-read on reload (CRL, certificate replaced in place)', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: CertificateAuthority;
  let kept: PemKeyPair;
  let revoked: PemKeyPair;
  let running: RunningSwitch;
  const file = (name: string) => path.join(dir, name);

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-tls-reload-'));
    ca = createCertificateAuthority('reload test CA');
    kept = issueCertificate(ca, { commonName: 'bank-tls', usage: 'client' });
    revoked = issueCertificate(ca, { commonName: 'bank-tls', usage: 'client' });
    const server = issueCertificate(ca, { commonName: 'jht-switch', usage: 'server', altNames: ['127.0.0.1'] });
    await writeFile(file('ca.pem'), ca.certPem);
    await writeFile(file('crl.pem'), createRevocationList(ca, []));
    await writeFile(file('server.key'), server.keyPem, { mode: 0o600 });
    await writeFile(file('server.cert'), server.certPem);
    const config: SwitchConfig = switchConfigSchema.parse({
      listen: { host: '127.0.0.1', port: 0 },
      partners: [{
        id: 'bank-tls', name: 'TLS Bank', acquirerIds: ['99851'], listener: { host: '127.0.0.1', port: 0 },
        tls: { keyFile: file('server.key'), certFile: file('server.cert'), caFile: file('ca.pem'), crlFile: file('crl.pem'), clientSubject: 'bank-tls' },
      }],
    });
    running = await startSwitch(config, createLogger({ level: 'info', destination: new LogCapture() }), { database: await getTestDatabase(), reloadConfig: () => config });
  });
  after(async () => {
    await running?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A sign-on over mutual TLS: whether it was answered, and the serial of the server certificate seen. */
  function signOn(client: PemKeyPair): Promise<Outcome> {
    return new Promise((resolve) => {
      const outcome: Outcome = { answered: false };
      const socket = tls.connect({ host: '127.0.0.1', port: running.network.listenerOf('bank-tls')!.port, ca: ca.certPem, key: client.keyPem, cert: client.certPem }, () => {
        outcome.serverSerial = socket.getPeerCertificate().serialNumber;
        socket.write(binary2.frame(Buffer.from('0800822000000000000004000000000000001202093015000001001', 'latin1')));
      });
      socket.once('data', () => {
        outcome.answered = true;
        socket.destroy();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(outcome));
    });
  }

  it('refuses a client certificate revoked in a new CRL once reloaded', async () => {
    expect((await signOn(revoked)).answered).to.equal(true);
    await writeFile(file('crl.pem'), createRevocationList(ca, [revoked.certPem]));
    expect((await signOn(revoked)).answered, 'the old CRL holds until reload').to.equal(true);
    await running.reload();
    expect((await signOn(revoked)).answered, 'revoked').to.equal(false);
    expect((await signOn(kept)).answered, 'another certificate of the partner').to.equal(true);
  });

  it('presents a server certificate replaced in place once reloaded; a broken file refuses the reload', async () => {
    const before = (await signOn(kept)).serverSerial;
    const renewed = issueCertificate(ca, { commonName: 'jht-switch', usage: 'server', altNames: ['127.0.0.1'] });
    await writeFile(file('server.key'), renewed.keyPem);
    await writeFile(file('server.cert'), renewed.certPem);
    await running.reload();
    const after = await signOn(kept);
    expect(after.answered).to.equal(true);
    expect(after.serverSerial).to.not.equal(before);
    expect(after.serverSerial).to.equal(new (await import('node:crypto')).X509Certificate(renewed.certPem).serialNumber);

    await writeFile(file('server.cert'), 'not a certificate');
    let refused: unknown;
    await running.reload().catch((error: unknown) => (refused = error));
    expect(refused, 'reload with a broken certificate').to.be.instanceOf(Error);
    expect((await signOn(kept)).serverSerial, 'the running certificate stays').to.equal(after.serverSerial);
  });
});
