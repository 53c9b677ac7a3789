import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, unlink, writeFile, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'net-ipc';
import { AdminClient } from '../../src/admin/admin-client.js';
import { startAdminServer, type AdminServer } from '../../src/admin/admin-server.js';
import { AdminCommandError, AdminNotRunningError } from '../../src/admin/errors.js';
import { ConfigError } from '../../src/config/load-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { RecentStats } from '../../src/observability/recent-stats.js';
import type { ReloadResult, SwitchControl, SwitchStatus } from '../../src/channels/atm/control.js';
import { demo, LogCapture, sleep } from '../support/index.js';

const PAN = demo.approvedCard;

/** The interface is the contract: a control with canned answers that records what it was asked. */
class FakeControl implements SwitchControl {
  accepting = true;
  drains = 0;
  drainDelayMs = 0;
  reloadAnswer: ReloadResult | Error = { kept: ['demo'], added: ['bank-b'], changed: [], removed: ['bank-old'] };

  status(): SwitchStatus {
    return {
      instanceId: 'host-4242-abcdef',
      startedAt: '2026-11-24T07:00:00.000Z',
      accepting: this.accepting,
      listeners: [{ host: '127.0.0.1', port: 8583, partners: ['demo'] }],
      partners: [
        {
          id: 'demo', name: 'Demo Bank', endpoint: 'shared',
          sessions: [
            { id: 'c1', remote: '127.0.0.1:50112', signedOn: true, inFlight: 2, openedAt: '2026-11-24T07:01:00.000Z', direction: 'inbound' },
            { id: 'c2', remote: '127.0.0.1:50113', signedOn: false, inFlight: 0, openedAt: '2026-11-24T07:02:00.000Z', direction: 'inbound' },
          ],
        },
        { id: 'bank-b', name: 'Bank B', endpoint: 'dial-out 10.0.0.7:9000', sessions: [] },
      ],
      breaker: 'half-open',
      journalQueueDepth: 12,
      inFlight: 2,
    };
  }

  async drain(): Promise<void> {
    this.drains++;
    if (this.drainDelayMs) await new Promise((resolve) => setTimeout(resolve, this.drainDelayMs));
    this.accepting = false;
  }

  async reload(): Promise<ReloadResult> {
    if (this.reloadAnswer instanceof Error) throw this.reloadAnswer;
    return this.reloadAnswer;
  }
}

/** A raw net-ipc client, to send what the typed AdminClient never would. */
async function rawRequest(socketPath: string, payload: unknown): Promise<unknown> {
  const client = new Client({ path: socketPath, reconnect: false });
  await client.connect();
  try {
    return await client.request(payload, 5_000);
  } finally {
    await client.close();
  }
}

/** net-ipc's framing of a short message: one byte of length (+128), then the bytes. */
function frame(text: string): Buffer {
  const body = Buffer.from(text, 'latin1');
  if (body.length > 127) throw new Error('frame() handles short messages only');
  return Buffer.concat([Buffer.from([body.length + 128]), body]);
}

/** A socket file left by a process killed with SIGKILL: nothing accepts on it any more. */
async function leaveStaleSocket(socketPath: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('admin: the socket server and client (real Unix socket)', function () {
  let dir: string;
  let socketPath: string;
  let control: FakeControl;
  let server: AdminServer | undefined;
  let logs: LogCapture;
  const start = (options: { socketPath?: string; control?: SwitchControl } = {}): Promise<AdminServer> =>
    startAdminServer({ socketPath, control, log: createLogger({ level: 'debug', destination: logs }), ...options });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-admin-'));
    socketPath = path.join(dir, 'switch.sock');
    control = new FakeControl();
    logs = new LogCapture();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('answers status, drain and reload through SwitchControl, with the recent figures', async () => {
    const recent = new RecentStats();
    recent.record(0.002);
    server = await startAdminServer({ socketPath, control, recent, log: createLogger({ level: 'silent' }) });
    const client = await AdminClient.connect(socketPath);
    try {
      const report = await client.status();
      expect(report.switch).to.deep.equal(control.status());
      expect(report.recent).to.include({ count: 1, maxMs: 2 });
      expect(await client.drain()).to.deep.equal({ accepting: false, inFlight: 2 });
      expect(control.drains).to.equal(1);
      expect(await client.reload()).to.deep.equal(control.reloadAnswer);
      expect((await client.status()).switch.accepting).to.equal(false);
    } finally {
      await client.close();
    }
  });

  it('status without metrics says so with recent: null', async () => {
    server = await start();
    const client = await AdminClient.connect(socketPath);
    expect((await client.status()).recent).to.equal(null);
    await client.close();
  });

  it('a reload the configuration refuses comes back as CONFIG_INVALID with the reason', async () => {
    control.reloadAnswer = new ConfigError('/etc/jht/switch.yaml', 'partner "bank-b" (partners[1]): framing.type', 'Invalid option');
    server = await start();
    const client = await AdminClient.connect(socketPath);
    const error = await client.reload().then(() => undefined, (e: unknown) => e);
    await client.close();
    expect(error).to.be.instanceOf(AdminCommandError);
    expect(error).to.include({
      code: 'CONFIG_INVALID',
      message: '/etc/jht/switch.yaml: partner "bank-b" (partners[1]): framing.type: Invalid option',
    });
  });

  it('runs one drain or reload at a time: the second is told the switch is busy', async () => {
    control.drainDelayMs = 300;
    server = await start();
    const [a, b] = await Promise.all([AdminClient.connect(socketPath), AdminClient.connect(socketPath)]);
    const drain = a.drain();
    await sleep(50);
    const busy = await b.reload().then(() => undefined, (e: unknown) => e);
    expect(busy).to.include({ code: 'ADMIN_BUSY', message: 'a drain is in progress; try again when it is done' });
    expect((await b.status()).switch.instanceId).to.equal('host-4242-abcdef'); // status is never blocked
    expect(await drain).to.deep.include({ accepting: false });
    await Promise.all([a.close(), b.close()]);
  });

  it('answers bad requests with a typed error and keeps serving', async () => {
    server = await start();
    const answers = [];
    for (const payload of ['status', null, 42, { command: 7 }, { command: 'status', pan: PAN }, {}]) {
      answers.push(await rawRequest(socketPath, payload));
    }
    for (const answer of answers) expect(answer).to.deep.include({ ok: false }).and.to.have.nested.property('error.code', 'ADMIN_BAD_REQUEST');
    expect(await rawRequest(socketPath, { command: 'shutdown' })).to.deep.equal({
      ok: false, error: { code: 'ADMIN_UNKNOWN_COMMAND', message: 'unknown command; the switch knows status, drain, reload' },
    });
    expect(await rawRequest(socketPath, { command: PAN })).to.have.nested.property('error.code', 'ADMIN_UNKNOWN_COMMAND');
    // Not even net-ipc: a frame of broken JSON quoting a card number, then bytes of garbage. The connection
    // goes; the server stays, and JSON.parse's message (which quotes its input) is not logged.
    for (const bytes of [frame(`[${PAN},x]`), Buffer.from(`\xff\xff\xff\xff{"pan":"${PAN}"}`, 'latin1')]) {
      const garbage = connect({ path: socketPath });
      await new Promise((resolve) => garbage.once('connect', resolve));
      garbage.on('error', () => undefined);
      garbage.write(Buffer.concat([Buffer.from('IPC'), bytes]));
      await sleep(100);
      garbage.destroy();
    }
    expect(logs.lines.some((line) => line.includes('admin connection error')), 'the broken frame was parsed').to.equal(true);
    expect(await rawRequest(socketPath, { command: 'status' })).to.deep.include({ ok: true, command: 'status' });
    expect(logs.text, 'nothing sent over the socket is logged').to.not.include(PAN);
    expect(logs.lines.some((line) => line.includes('admin request refused'))).to.equal(true);
  });

  it('the socket file is for the operator only (0600), and close() removes it', async () => {
    server = await start();
    expect((await stat(socketPath)).mode & 0o777).to.equal(0o600);
    expect((await stat(dir)).isDirectory()).to.equal(true);
    await server.close();
    server = undefined;
    await stat(socketPath).then(() => expect.fail('socket file left behind'), (e: NodeJS.ErrnoException) => expect(e.code).to.equal('ENOENT'));
    const error = await AdminClient.connect(socketPath).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(AdminNotRunningError);
    expect(error).to.include({ code: 'ADMIN_NOT_RUNNING', message: `no switch is running at ${socketPath}` });
  });

  it('a second switch on a live socket is refused, naming the path, and the first keeps it', async () => {
    server = await start();
    const second = await start({ control: new FakeControl() }).then(() => undefined, (e: unknown) => e);
    expect(second).to.include({ name: 'AdminSocketInUseError', code: 'ADMIN_SOCKET_IN_USE', socketPath });
    expect((second as Error).message).to.include(socketPath);
    const client = await AdminClient.connect(socketPath);
    expect((await client.status()).switch.instanceId).to.equal('host-4242-abcdef');
    await client.close();
    expect(await readdirNames(dir)).to.deep.equal(['operator-audit.log', 'switch.sock']); // no private name left behind
  });

  it('two switches starting at the same moment: exactly one gets the socket', async () => {
    const results = await Promise.allSettled([start(), start({ control: new FakeControl() }), start({ control: new FakeControl() })]);
    const won = results.filter((r): r is PromiseFulfilledResult<AdminServer> => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).to.have.length(1);
    server = won[0]!.value;
    for (const loss of lost) expect(loss.reason).to.include({ code: 'ADMIN_SOCKET_IN_USE' });
    const client = await AdminClient.connect(socketPath);
    expect((await client.status()).switch.accepting).to.equal(true);
    await client.close();
  });

  it('takes over a stale socket file left by a killed switch', async () => {
    await leaveStaleSocket(socketPath);
    expect((await stat(socketPath)).isSocket()).to.equal(true);
    const refused = await AdminClient.connect(socketPath).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(AdminNotRunningError);
    server = await start();
    const client = await AdminClient.connect(socketPath);
    expect((await client.status()).switch.instanceId).to.equal('host-4242-abcdef');
    await client.close();
  });

  it('leaves a path that is not a socket alone', async () => {
    await writeFile(socketPath, 'operator notes');
    const error = await start().then(() => undefined, (e: unknown) => e);
    expect(error).to.include({ code: 'ADMIN_SOCKET_PATH_INVALID' });
    expect((error as Error).message).to.equal(`admin socket ${socketPath}: exists and is not a socket; it is left alone`);
    expect(await readFile(socketPath, 'utf8')).to.equal('operator notes');
  });

  it('close() does not remove a socket another switch has taken since', async () => {
    const first = await start();
    await unlink(socketPath); // someone removed it by hand, and a new switch started
    server = await start({ control: new FakeControl() });
    await first.close();
    const client = await AdminClient.connect(socketPath);
    expect((await client.status()).switch.accepting).to.equal(true);
    await client.close();
  });

  it('a client whose switch goes away mid-command gets an error, not a hang', async () => {
    control.drainDelayMs = 5_000;
    const own = await start();
    const client = await AdminClient.connect(socketPath, { commandTimeoutMs: 20_000 });
    const drain = client.drain().then(() => undefined, (e: unknown) => e);
    await sleep(50);
    const started = performance.now();
    await own.close();
    expect(await drain).to.include({ code: 'ADMIN_CONNECTION_FAILED' });
    expect(performance.now() - started).to.be.below(3_000);
  });
});

async function readdirNames(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(dir)).sort();
}
