import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { balanceInquiry, networkRequest } from '../../src/client/atm-messages.js';
import { IsoClient } from '../../src/client/iso-client.js';
import { createCertificateAuthority, issueCertificate } from '../../src/transport/tls/dev-certificates.js';
import {
  binary2, demo, freePort, haproxyConfig, proxyHeaderFor, requireBinary, roleDatabaseUrl, runCli, sleep, startHaproxy, startServe, TestPeer,
  uniqueStan, waitFor, type HaproxyBackend, type RunningHaproxy, type ServeProcess,
} from '../support/index.js';

/** Loopback addresses that stand for three banks' hosts, and HAProxy, which the switches trust. */
const BANK_DEMO = '127.0.0.5';
const BANK_SEVEN = '127.0.0.7';
const STRANGER = '127.0.0.9';
const HAPROXY = '127.0.0.1';

describe('integration: HAProxy (send-proxy-v2) in front of two switches', function () {
  this.timeout(120_000);
  let haproxyBin: string;
  let dir: string;
  let haproxy: RunningHaproxy | undefined;
  const haproxyLog = (): string => haproxy?.log() ?? '';
  const switches: ServeProcess[] = [];
  const backends: HaproxyBackend[] = [];
  let frontend: number;

  before(async function () {
    haproxyBin = requireBinary(this, 'haproxy', 'haproxy');
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-haproxy-'));
    const ca = createCertificateAuthority('metrics CA');
    const metricsCert = issueCertificate(ca, { commonName: 'jht-switch metrics', usage: 'server', altNames: ['127.0.0.1'] });
    await writeFile(path.join(dir, 'ca.pem'), ca.certPem);
    await writeFile(path.join(dir, 'metrics.key'), metricsCert.keyPem, { mode: 0o600 });
    await writeFile(path.join(dir, 'metrics.cert'), metricsCert.certPem);
    const databaseUrl = await roleDatabaseUrl('jht_switch');
    for (const n of [1, 2]) {
      const backend = { iso: await freePort(), metrics: await freePort() };
      const configFile = path.join(dir, `switch${n}.json`);
      await writeFile(configFile, JSON.stringify({
        listen: { host: '127.0.0.1', port: backend.iso },
        transport: { trustedProxies: [HAPROXY], refusalLogIntervalMs: 1_000 },
        partners: [
          { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'], allowFrom: [BANK_DEMO] },
          { id: 'bank-seven', name: 'Bank Seven', acquirerIds: ['99907'], allowFrom: [BANK_SEVEN] },
        ],
        admin: { socketPath: path.join(dir, `admin${n}.sock`) },
        channels: { rest: { port: 0 } },
        metrics: { host: '127.0.0.1', port: backend.metrics, tls: { keyFile: path.join(dir, 'metrics.key'), certFile: path.join(dir, 'metrics.cert') } },
      }));
      switches.push(await startServe(['--config', configFile], { DATABASE_URL: databaseUrl }));
      backends.push(backend);
    }
    frontend = await freePort();
    const at = { host: HAPROXY, port: frontend };
    haproxy = await startHaproxy(haproxyBin, dir, at, await haproxyConfig(at, backends, path.join(dir, 'ca.pem')));
    // Servers start UP; a failing /readyz check (inter 1 s, fall 2) would mark one DOWN within 3 s.
    await sleep(3_000);
  });

  after(async () => {
    await haproxy?.stop();
    for (const s of switches) s.child.kill('SIGTERM');
    await Promise.all(switches.map((s) => s.exited));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const partnerLinesOf = (s: ServeProcess) => s.logLines().filter((l) => l.msg === 'partner connected');
  const partnerLines = () => switches.flatMap(partnerLinesOf);

  async function inquiryFrom(localAddress: string, acquirerId: string): Promise<string | undefined> {
    const atm = await IsoClient.connect({ port: frontend, localAddress, timeoutMs: 5_000 });
    try {
      expect((await atm.request(networkRequest(atm.nextStan(), '001'))).get(39), 'sign-on').to.equal('00');
      const answer = await atm.request(balanceInquiry({ stan: uniqueStan(), acquirerId, terminalId: 'HAPROXY1', pan: demo.approvedCard }));
      return answer.get(39);
    } finally {
      await atm.close().catch(() => undefined);
    }
  }

  it('health-checks both switches on /readyz over HTTPS', () => {
    expect(haproxyLog()).to.not.match(/switch[12] is DOWN/);
  });

  it('binds each bank to its partner by its own address, carried through HAProxy', async () => {
    for (let i = 0; i < 4; i++) expect(await inquiryFrom(BANK_DEMO, '99901'), 'demo through HAProxy').to.equal('00');
    // Bank Seven's host is bound to bank-seven: the demo acquirer is not its own.
    expect(await inquiryFrom(BANK_SEVEN, '99901'), 'bank-seven sending the demo acquirer').to.equal('58');
    const has = (partner: string, remote: string) => partnerLines().some((l) => l.partner === partner && l.remote === remote);
    await waitFor(() => has('demo', BANK_DEMO) && has('bank-seven', BANK_SEVEN), { what: 'the sessions in the switches\' logs', timeoutMs: 5_000 });
    const seen = partnerLines().map((l) => [l.partner, l.remote]);
    expect(seen).to.deep.include(['demo', BANK_DEMO]).and.deep.include(['bank-seven', BANK_SEVEN]);
    expect(seen.filter(([, remote]) => remote === HAPROXY), 'sessions bound to HAProxy\'s own address').to.deep.equal([]);
    // leastconn spread the sessions over both switches (each switch's log is buffered: wait for its lines).
    await waitFor(() => switches.every((s) => s.logLines().some((l) => l.msg === 'partner connected')), { what: 'a session in each switch\'s log', timeoutMs: 5_000 });
  });

  it('turns away a host no partner allows, although HAProxy (trusted) relayed it', async () => {
    const stranger = await new Promise<TestPeer>((resolve) => {
      const socket = net.connect({ host: HAPROXY, port: frontend, localAddress: STRANGER }, () => resolve(new TestPeer(socket)));
    });
    stranger.send('0800');
    await stranger.waitClosed(5_000);
    expect(stranger.frames).to.deep.equal([]);
  });

  it('refuses a PROXY header sent straight to a switch by a host that is not a trusted proxy', async () => {
    // Counted per switch: a line of an earlier test arriving on one switch must not shift the other's.
    const before = switches.map((s) => partnerLinesOf(s).length);
    const forger = await new Promise<TestPeer>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: backends[0]!.iso, localAddress: BANK_DEMO }, () => resolve(new TestPeer(socket)));
    });
    // The demo bank's host claiming to be Bank Seven's.
    forger.write(Buffer.concat([proxyHeaderFor({ address: BANK_SEVEN, port: 40_000 }, { address: '127.0.0.1', port: backends[0]!.iso }), binary2.frame(Buffer.from('0800'))]));
    await forger.waitClosed(5_000);
    expect(forger.frames).to.deep.equal([]);
    expect(switches.flatMap((s, i) => partnerLinesOf(s).slice(before[i])).map((l) => l.partner)).to.not.include('bank-seven');
    await waitFor(() => switches[0]!.output().includes('PROXY_HEADER_UNTRUSTED'), { what: 'the refusal in the switch log', timeoutMs: 15_000 });
  });

  it('stops sending new connections to a drained switch (its /readyz answers 503)', async () => {
    const drained = await runCli(['drain'], undefined, { JHT_ADMIN_SOCKET: path.join(dir, 'admin2.sock') });
    expect(drained.status, drained.stderr).to.equal(0);
    await waitFor(() => /switch2 is DOWN/.test(haproxyLog()), { what: () => `HAProxy to mark switch2 down:\n${haproxyLog()}`, timeoutMs: 10_000 });
    const before = switches[0]!.logLines().filter((l) => l.msg === 'partner connected').length;
    expect(await inquiryFrom(BANK_DEMO, '99901')).to.equal('00');
    await waitFor(() => switches[0]!.logLines().filter((l) => l.msg === 'partner connected').length > before, { what: 'the session on switch1' });
  });
});
