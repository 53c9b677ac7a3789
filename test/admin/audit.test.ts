import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'net-ipc';
import { AdminClient } from '../../src/admin/admin-client.js';
import { startAdminServer, type AdminServer } from '../../src/admin/admin-server.js';
import { parseSsOutput } from '../../src/admin/peer-credentials.js';
import { createLogger } from '../../src/observability/logger.js';
import type { ReloadResult, SwitchControl, SwitchStatus } from '../../src/channels/atm/control.js';
import { runCli } from '../support/run-cli.js';
import { LogCapture } from '../support/switch-harness.js';

const O_APPEND = 0o2000;

class QuietControl implements SwitchControl {
  status(): SwitchStatus {
    return {
      instanceId: 'audit-test', startedAt: '2026-12-02T07:00:00.000Z', accepting: true, listeners: [], partners: [],
      breaker: 'closed', journalQueueDepth: 0, inFlight: 0,
    };
  }
  async drain(): Promise<void> {}
  async reload(): Promise<ReloadResult> {
    return { kept: ['demo'], added: [], changed: [], removed: [] };
  }
}

interface AuditLine {
  command: string;
  outcome: string;
  uid: number | null;
  pid: number | null;
  sudoUid?: string;
  startedAt: string;
  endedAt: string;
}

const hasSs = ((): boolean => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('admin: the socket mode and the operator audit log', function () {
  this.timeout(30_000);
  let dir: string;
  let socketPath: string;
  let auditLogPath: string;
  let logs: LogCapture;
  let server: AdminServer | undefined;
  const start = (): Promise<AdminServer> =>
    startAdminServer({ socketPath, auditLogPath, control: new QuietControl(), log: createLogger({ destination: logs }) });
  const auditLines = async (): Promise<AuditLine[]> =>
    (await readFile(auditLogPath, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditLine);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-audit-'));
    socketPath = path.join(dir, 'switch.sock');
    auditLogPath = path.join(dir, 'audit', 'operator.log');
    logs = new LogCapture();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('the socket is 0600 from the moment it is bound, whatever the umask', async () => {
    const modes: number[] = [];
    const listen = net.Server.prototype.listen;
    const previous = process.umask(0o002);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- listen's overloads cannot be re-declared here
    net.Server.prototype.listen = function (this: net.Server, ...args: any[]) {
      const result = listen.apply(this, args as Parameters<typeof listen>);
      const options = args[0] as { path?: string } | undefined;
      if (options?.path?.startsWith(socketPath)) modes.push(statSync(options.path).mode & 0o777);
      return result;
    } as typeof listen;
    try {
      server = await start();
    } finally {
      net.Server.prototype.listen = listen;
      process.umask(previous);
    }
    expect(modes).to.deep.equal([0o600]);
    expect((await stat(socketPath)).mode & 0o777).to.equal(0o600);
  });

  it('drain and reload from the CLI are audited with the uid the kernel gives, SUDO_UID beside it; status is not', async function () {
    if (!hasSs || process.platform !== 'linux') return this.skip();
    server = await start();
    expect((await runCli(['status', '--socket', socketPath])).status).to.equal(0);
    const reload = await runCli(['reload', '--socket', socketPath], undefined, { SUDO_UID: '4242' });
    expect(reload.status, reload.stderr).to.equal(0);
    expect((await runCli(['drain', '--socket', socketPath], undefined, { SUDO_UID: '' })).status).to.equal(0);
    const lines = await auditLines();
    expect(lines.map((l) => [l.command, l.outcome])).to.deep.equal([['reload', 'ok'], ['drain', 'ok']]);
    for (const line of lines) {
      expect(line.uid).to.equal(process.getuid!());
      expect(line.pid).to.be.a('number').and.not.equal(process.pid); // the CLI's process, not ours
      expect(Date.parse(line.endedAt)).to.be.at.least(Date.parse(line.startedAt));
    }
    expect(lines[0]!.sudoUid).to.equal('4242');
    expect(lines[1]).to.not.have.property('sudoUid');
    expect((await stat(auditLogPath)).mode & 0o777).to.equal(0o600);
    expect(logs.text).to.match(/"uid":\d+,"sudoUid":"4242","msg":"admin command audited"/);
  });

  it('opens the audit log append-only: earlier lines are kept, and a looser mode is tightened to 0600', async () => {
    await mkdir(path.dirname(auditLogPath), { recursive: true });
    await writeFile(auditLogPath, '{"command":"reload","outcome":"ok","earlier":true}\n', { mode: 0o644 });
    server = await start();
    const fds = await readdir('/proc/self/fd');
    const targets = await Promise.all(fds.map(async (fd) => [fd, await readlink(`/proc/self/fd/${fd}`).catch(() => '')] as const));
    const fd = targets.find(([, target]) => target === auditLogPath)?.[0];
    expect(fd, 'the audit log is open').to.be.a('string');
    const flags = Number.parseInt(/^flags:\s+(\d+)/m.exec(await readFile(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
    expect(flags & O_APPEND).to.equal(O_APPEND);
    const client = await AdminClient.connect(socketPath);
    await client.drain();
    await client.close();
    const lines = await auditLines();
    expect(lines).to.have.length(2);
    expect(lines[0]).to.deep.include({ earlier: true });
    expect(lines[1]).to.deep.include({ command: 'drain', outcome: 'ok' });
    expect((await stat(auditLogPath)).mode & 0o777).to.equal(0o600);
  });

  it('fails closed: without a writable audit log there is no admin socket', async () => {
    await mkdir(auditLogPath, { recursive: true }); // a directory where the file should be
    const refused = await start().then(() => undefined, (error: unknown) => error);
    expect(refused).to.include({ code: 'ADMIN_AUDIT_LOG_FAILED' });
    expect((refused as Error).message).to.include(auditLogPath);
    await stat(socketPath).then(() => expect.fail('no socket expected'), (error: NodeJS.ErrnoException) => expect(error.code).to.equal('ENOENT'));
  });

  it('a command the switch does not know is audited as refused, without copying its name', async () => {
    server = await start();
    const client = new Client({ path: socketPath, reconnect: false });
    await client.connect();
    await client.request({ command: '6040990000000001' }, 5_000);
    await client.close();
    const lines = await auditLines();
    expect(lines.map((l) => [l.command, l.outcome])).to.deep.equal([['(unknown)', 'refused']]);
    expect(await readFile(auditLogPath, 'utf8')).to.not.include('6040990000000001');
  });

  it('reads the peer inode and process of each socket from ss -xpnH, paths with spaces included', () => {
    const listing = parseSsOutput([
      'u_str ESTAB 0      0                  * 649    * 650                                      ',
      'u_str ESTAB 0      0                  * 153251 * 153252 users:(("node",pid=31837,fd=21))',
      'u_str ESTAB 0      0      /tmp/a b/switch.sock.1.1 153252 * 153251 users:(("node",pid=4242,fd=5),("node",pid=4243,fd=5))',
    ].join('\n'));
    expect(listing.get('649')).to.deep.equal({ peerInode: '650', processes: [] });
    expect(listing.get('153251')).to.deep.equal({ peerInode: '153252', processes: [{ pid: 31837, fd: 21 }] });
    expect(listing.get('153252')!.processes).to.deep.equal([{ pid: 4242, fd: 5 }, { pid: 4243, fd: 5 }]);
  });
});
