import { expect } from 'chai';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { runNode, type CliResult } from '../support/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/make-certs.ts');
const FILES = ['ca.cert.pem', 'ca.key.pem', 'server.cert.pem', 'server.key.pem', 'demo-partner.cert.pem', 'demo-partner.key.pem'];
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';

type Run = CliResult;

/** `npm run certs -- ARGS`, minus npm: the same script through tsx, from the project root. */
function makeCerts(args: readonly string[]): Promise<Run> {
  return runNode(['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT });
}

describe('security: npm run certs (scripts/make-certs.ts)', function () {
  this.timeout(60_000);
  let dir: string;
  let first: Run;
  const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
  const cert = (file: string): X509Certificate => new X509Certificate(read(file));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jht-certs-'));
    first = await makeCerts(['--out', dir]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the CA, the server and the demo partner files and says what it wrote', () => {
    expect(first.status, first.stderr).to.equal(0);
    for (const file of FILES) {
      expect(statSync(join(dir, file)).isFile(), file).to.equal(true);
      expect(first.stdout).to.contain(file);
    }
    expect(first.stdout).to.match(/NOT for production/);
  });

  it('writes private keys readable by their owner only (0600)', () => {
    for (const file of FILES.filter((f) => f.endsWith('.key.pem'))) {
      expect(statSync(join(dir, file)).mode & 0o777, file).to.equal(0o600);
    }
  });

  it('makes a CA that signed the server certificate for 127.0.0.1, ::1 and localhost', () => {
    const ca = cert('ca.cert.pem');
    const server = cert('server.cert.pem');
    expect(ca.ca).to.equal(true);
    expect(server.ca).to.equal(false);
    expect(server.checkIssued(ca)).to.equal(true);
    expect(server.verify(ca.publicKey)).to.equal(true);
    expect(server.checkIP('127.0.0.1')).to.equal('127.0.0.1');
    expect(server.checkHost('localhost')).to.equal('localhost');
    expect(server.keyUsage).to.include(SERVER_AUTH_OID);
    expect(server.checkPrivateKey(createPrivateKey(read('server.key.pem')))).to.equal(true);
  });

  it('makes the demo partner a client certificate whose subject CN is the partner id "demo"', () => {
    const ca = cert('ca.cert.pem');
    const client = cert('demo-partner.cert.pem');
    expect(client.subject.split('\n')).to.include('CN=demo');
    expect(client.verify(ca.publicKey)).to.equal(true);
    expect(client.keyUsage).to.include(CLIENT_AUTH_OID);
    expect(client.checkPrivateKey(createPrivateKey(read('demo-partner.key.pem')))).to.equal(true);
    expect(new Date(client.validTo).getTime()).to.be.greaterThan(Date.now() + 365 * 86_400_000);
  });

  it('makes files that work together: a mutual TLS 1.2+ handshake verifies both sides', async () => {
    const server = tls.createServer({
      key: read('server.key.pem'), cert: read('server.cert.pem'), ca: read('ca.cert.pem'),
      requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2',
    });
    const seen = new Promise<string | undefined>((resolve) => {
      server.on('secureConnection', (socket) => {
        const cn: unknown = socket.getPeerCertificate().subject?.CN;
        resolve(typeof cn === 'string' ? cn : undefined);
        socket.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const protocol = await new Promise<string | null>((resolve, reject) => {
        const socket = tls.connect({
          host: '127.0.0.1', port, key: read('demo-partner.key.pem'), cert: read('demo-partner.cert.pem'), ca: read('ca.cert.pem'),
          checkServerIdentity: (_host, peer) => tls.checkServerIdentity('127.0.0.1', peer),
        }, () => {
          resolve(socket.getProtocol());
          socket.end();
        });
        socket.on('error', reject);
      });
      expect(protocol).to.be.oneOf(['TLSv1.2', 'TLSv1.3']);
      expect(await seen).to.equal('demo');
    } finally {
      server.close();
    }
  });

  it('refuses to overwrite without --force, and changes nothing', async () => {
    const before = FILES.map(read);
    const second = await makeCerts(['--out', dir]);
    expect(second.status).to.equal(1);
    expect(second.stderr).to.contain('already exist').and.to.contain('--force');
    expect(FILES.map(read)).to.deep.equal(before);
  });

  it('replaces everything with --force, keys still 0600', async () => {
    const oldCa = read('ca.cert.pem');
    const forced = await makeCerts(['--out', dir, '--force']);
    expect(forced.status, forced.stderr).to.equal(0);
    expect(read('ca.cert.pem')).not.to.equal(oldCa);
    expect(cert('server.cert.pem').verify(cert('ca.cert.pem').publicKey)).to.equal(true);
    expect(statSync(join(dir, 'ca.key.pem')).mode & 0o777).to.equal(0o600);
  });

  it('rejects an unknown option with usage and status 2', async () => {
    const bad = await makeCerts(['--outdir', dir]);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.contain('usage: npm run certs');
  });
});
