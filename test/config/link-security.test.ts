import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isLoopbackHost, linkSecurityProblem } from '../../src/config/link-security.js';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { PUBLISHED_TEST_MAC_KCV, PUBLISHED_TEST_MAC_KEY, expectThrows, keyDirectory, startTestSwitch, writeKeyFile } from '../support/index.js';

const MAC = '{ algorithm: x9.19, keyFile: /etc/jht-switch/keys/mac-bank, kcv: "08D7B4" }';
const TLS = '{ keyFile: k.pem, certFile: c.pem, caFile: ca.pem, clientSubject: bank }';

describe('config: link security (no plaintext link outside loopback)', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'jht-links-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  async function load(yaml: string) {
    const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, yaml);
    return () => loadConfig({ file, env: {} });
  }
  const refused = async (yaml: string): Promise<ConfigError> => expectThrows(await load(yaml), ConfigError);

  it('counts only literal loopback addresses and localhost as loopback', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(host), host).to.equal(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'switch.example', '::ffff:10.0.0.1']) expect(isLoopbackHost(host), host).to.equal(false);
    expect(linkSecurityProblem({ kind: 'dial-out', host: '127.0.0.1', tls: false })).to.match(/dial-out needs TLS/);
    expect(linkSecurityProblem({ kind: 'listener', host: '127.0.0.1', tls: false })).to.equal(undefined);
  });

  it('refuses a plaintext shared listener, partner listener, dial-out or metrics listener outside loopback, naming the key', async () => {
    expect((await refused('listen: { host: 0.0.0.0, port: 8583 }\n')).message).to.match(/: listen: a listener outside loopback needs TLS/);
    expect((await refused(`partners:\n  - { id: bank, name: B, acquirerIds: ["1"], listener: { host: 10.0.0.5, port: 9000 } }\n`)).message)
      .to.match(/partner "bank" \(partners\[0\]\): listener: a listener outside loopback/);
    expect((await refused(`partners:\n  - { id: bank, name: B, acquirerIds: ["1"], dialOut: { host: 127.0.0.1, port: 9000 } }\n`)).message)
      .to.match(/partner "bank" \(partners\[0\]\): dialOut: a dial-out needs TLS/);
    expect((await refused('metrics: { host: 0.0.0.0, port: 9583 }\n')).message).to.match(/: metrics: a listener outside loopback/);
  });

  it('accepts TLS, and insecure with a reason only together with a MAC; the error never quotes a value', async () => {
    expect((await load(`partners:\n  - { id: bank, name: B, acquirerIds: ["1"], listener: { host: 0.0.0.0, port: 9000 }, tls: ${TLS} }\n`))()).to.have.property('partners');
    const noMac = await refused(`partners:\n  - { id: bank, name: B, acquirerIds: ["1"], dialOut: { host: 10.9.9.9, port: 9000, insecure: { reason: "MPLS circuit 42" } } }\n`);
    expect(noMac.message).to.match(/partner "bank" \(partners\[0\]\): mac: runs on a plaintext link by exception/);
    expect(noMac.message).to.not.include('MPLS circuit 42');
    const withMac = (await load(`partners:\n  - { id: bank, name: B, acquirerIds: ["1"], mac: ${MAC}, dialOut: { host: 10.9.9.9, port: 9000, insecure: { reason: "MPLS circuit 42" } } }\n`))();
    expect(withMac.partners[0]!.dialOut?.insecure?.reason).to.equal('MPLS circuit 42');
    expect((await refused('listen: { host: 0.0.0.0, port: 8583, insecure: { reason: "lab" } }\n')).message).to.match(/partner "demo".*: mac/);
    expect((await refused('metrics: { host: 0.0.0.0, port: 9583, insecure: { reason: "  " } }\n')).message).to.match(/metrics\.insecure\.reason: must say why/);
    expect((await load('metrics: { host: 0.0.0.0, port: 9583, insecure: { reason: "monitoring VLAN" } }\n'))().metrics.insecure?.reason).to.equal('monitoring VLAN');
  });

  it('a mutual-TLS listener must name the partner identity', async () => {
    const error = await refused(`partners:\n  - { id: bank, name: B, acquirerIds: ["1"], listener: { host: 0.0.0.0, port: 9000 }, tls: { keyFile: k, certFile: c, caFile: ca } }\n`);
    expect(error.message).to.match(/tls\.clientSubject: a mutual-TLS listener must name/);
  });

  it('logs the reason of every exception at start, as a warning', async function () {
    this.timeout(20_000);
    const sw = await startTestSwitch({
      listen: { host: '127.0.0.1', port: 0, insecure: { reason: 'private circuit to Bank Demo' } },
      partners: [{ id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'], mac: { algorithm: 'x9.19', keyFile: writeKeyFile(keyDirectory(), 'mac-demo', PUBLISHED_TEST_MAC_KEY), kcv: PUBLISHED_TEST_MAC_KCV } }],
    });
    try {
      const line = sw.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.msg).startsWith('plaintext link by exception'));
      expect(line).to.deep.include({ level: 40, link: 'listen', reason: 'private circuit to Bank Demo' });
    } finally {
      await sw.stop();
    }
  });
});
