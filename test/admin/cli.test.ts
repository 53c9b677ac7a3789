import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startAdminServer, type AdminServer } from '../../src/admin/admin-server.js';
import { ConfigError } from '../../src/config/load-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { RecentStats } from '../../src/observability/recent-stats.js';
import type { ReloadResult, SwitchControl, SwitchStatus } from '../../src/channels/atm/control.js';
import { runCli } from '../support/index.js';

const STATUS: SwitchStatus = {
  instanceId: 'host-4242-abcdef',
  startedAt: '2026-11-24T07:00:00.000Z',
  accepting: true,
  listeners: [{ host: '127.0.0.1', port: 8583, partners: ['demo'] }],
  partners: [
    {
      id: 'demo', name: 'Demo Bank', endpoint: 'shared',
      sessions: [{ id: 'c1', remote: '127.0.0.1:50112', signedOn: true, inFlight: 1, openedAt: '2026-11-24T07:01:00.000Z', direction: 'inbound' }],
    },
    { id: 'bank-b', name: 'Bank B', endpoint: 'dial-out 10.0.0.7:9000', sessions: [] },
  ],
  breaker: 'closed',
  journalQueueDepth: 3,
  inFlight: 1,
};

describe('admin: the status, drain and reload commands (the real jht-switch executable)', function () {
  this.timeout(60_000);
  let dir: string;
  let socketPath: string;
  let server: AdminServer;
  let reloadAnswer: ReloadResult | Error;
  let accepting: boolean;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-admin-cli-'));
    socketPath = path.join(dir, 'switch.sock');
    const control: SwitchControl = {
      status: () => ({ ...STATUS, accepting }),
      drain: async () => { accepting = false; },
      reload: async () => { if (reloadAnswer instanceof Error) throw reloadAnswer; return reloadAnswer; },
    };
    const recent = new RecentStats();
    for (let i = 0; i < 20; i++) recent.record(0.0015);
    server = await startAdminServer({ socketPath, control, recent, log: createLogger({ level: 'silent' }) });
  });
  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    accepting = true;
    reloadAnswer = { kept: ['demo'], added: ['bank-b'], changed: ['bank-c'], removed: [] };
  });

  it('the executable offers status, drain and reload (src/cli/main.ts registers them)', async () => {
    const { status, stdout, stderr } = await runCli(['--help']);
    expect(status, stderr).to.equal(0);
    for (const command of ['status', 'drain', 'reload']) expect(stdout, command).to.match(new RegExp(`^ {2}${command} \\[options\\] `, 'm'));
  });

  it('status prints the partners, their connections and sign-on, the breaker, the journal and recent figures', async () => {
    const { status, stdout, stderr } = await runCli(['status', '--socket', socketPath]);
    expect(stderr).to.equal('');
    expect(status).to.equal(0);
    expect(stdout).to.match(/^switch {5}host-4242-abcdef {2}accepting$/m);
    expect(stdout).to.match(/^listeners {2}127\.0\.0\.1:8583 \(demo\)$/m);
    expect(stdout).to.match(/^ledger {5}breaker closed {3}journal queue 3 {3}in flight 1$/m);
    expect(stdout).to.match(/^recent {5}\d+\.\d tps {3}p50 1\.\d\d ms {3}p99 1\.\d\d ms {3}max 1\.50 ms {3}\(20 in the last \d+ s\)$/m);
    expect(stdout).to.match(/^PARTNER +NAME +ENDPOINT +CONNECTIONS +SIGNED ON$/m);
    expect(stdout).to.match(/^demo +Demo Bank +shared +1 +1$/m);
    expect(stdout).to.match(/^bank-b +Bank B +dial-out 10\.0\.0\.7:9000 +0 +0$/m);
    expect(stdout).to.match(/^CONNECTION +PARTNER +REMOTE +DIRECTION +SIGNED ON +IN FLIGHT +SINCE \(UTC\)$/m);
    expect(stdout).to.match(/^c1 +demo +127\.0\.0\.1:50112 +inbound +yes +1 +(2026-11-24 )?07:01:00$/m);
  });

  it('status --json prints the report as JSON; JHT_ADMIN_SOCKET stands in for --socket', async () => {
    const { status, stdout } = await runCli(['status', '--json'], undefined, { JHT_ADMIN_SOCKET: socketPath });
    expect(status).to.equal(0);
    const report = JSON.parse(stdout) as { switch: SwitchStatus; recent: { count: number } };
    expect(report.switch).to.deep.equal(STATUS);
    expect(report.recent.count).to.equal(20);
  });

  it('drain stops accepting, reload prints kept/added/changed/removed', async () => {
    const drain = await runCli(['drain', '--socket', socketPath]);
    expect(drain.status).to.equal(0);
    expect(drain.stdout).to.equal('drained: no longer accepting, 1 in flight. The process keeps running until it is stopped (SIGTERM).\n');
    expect(accepting).to.equal(false);
    const reload = await runCli(['reload', '--socket', socketPath]);
    expect(reload.status).to.equal(0);
    expect(reload.stdout.split('\n')).to.deep.equal([
      'reloaded:', '  kept     demo', '  added    bank-b',
      '  changed  bank-c   (their connections were closed: the partners reconnect)', '  removed  -', '',
    ]);
  });

  it('reload of an invalid configuration: the error in one line, exit status 2', async () => {
    reloadAnswer = new ConfigError('switch.yaml', 'partner "bank-b" (partners[1]): framing.type', 'Invalid option');
    const { status, stdout, stderr } = await runCli(['reload', '--socket', socketPath]);
    expect(status).to.equal(2);
    expect(stdout).to.equal('');
    expect(stderr).to.equal('error: the new configuration is refused, the running one is unchanged: switch.yaml: partner "bank-b" (partners[1]): framing.type: Invalid option\n');
  });

  it('with no switch running: one line naming the socket, exit status 1', async () => {
    const nowhere = path.join(dir, 'nobody.sock');
    for (const command of ['status', 'drain', 'reload']) {
      const { status, stdout, stderr } = await runCli([command, '--socket', nowhere]);
      expect(status, command).to.equal(1);
      expect(stdout, command).to.equal('');
      expect(stderr, command).to.equal(`error: no switch is running at ${nowhere}\n`);
    }
  });
});
