import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AdminClient } from '../../src/admin/admin-client.js';
import { adminConfigSchema } from '../../src/admin/config.js';
import { startOperations, type Operations } from '../../src/admin/operations.js';
import { balanceInquiry } from '../../src/client/atm-messages.js';
import { IsoClient } from '../../src/client/iso-client.js';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { switchConfigSchema, type SwitchConfig, type SwitchConfigInput } from '../../src/config/schema.js';
import { metricsConfigSchema } from '../../src/observability/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createSwitchMetrics, type SwitchMetrics } from '../../src/observability/metrics.js';
import { startSwitch, type RunningSwitch } from '../../src/channels/atm/jht-switch.js';
import { networkRequest } from '../../src/iso8583/vocabulary/index.js';
import { demo, getTestDatabase, LogCapture, runCli, uniqueStan } from '../support/index.js';

const DEMO = { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] };
const BANK_A = { id: 'bank-a', name: 'Bank A', acquirerIds: ['99831'], listener: { host: '127.0.0.1', port: 0 } };

function configOf(partners: SwitchConfigInput['partners']): SwitchConfig {
  return switchConfigSchema.parse({ listen: { host: '127.0.0.1', port: 0 }, partners });
}

/** The one sample of `name` with exactly these labels, from the Prometheus text. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('admin e2e: the real switch behind the admin socket, the CLI and the ops HTTP server', function () {
  this.timeout(60_000);
  const logs = new LogCapture();
  const log = createLogger({ level: 'debug', destination: logs });
  let dir: string;
  let socketPath: string;
  let running: RunningSwitch;
  let metrics: SwitchMetrics;
  let operations: Operations;
  let httpPort: number;
  let nextConfig: () => SwitchConfig;
  let atm: IsoClient | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-admin-e2e-'));
    socketPath = path.join(dir, 'switch.sock');
    nextConfig = () => configOf([DEMO]);
    metrics = createSwitchMetrics();
    const config = nextConfig();
    running = await startSwitch(config, log, { database: await getTestDatabase(), observer: metrics, reloadConfig: () => nextConfig() });
    // The serve command's wiring, with the configuration fragments the lead adds to the schema.
    operations = await startOperations({
      running, metrics, log,
      admin: adminConfigSchema.parse({ socketPath }),
      http: metricsConfigSchema.parse({ port: 0 }),
      ledgerTimeoutMs: config.ledger.timeoutMs,
    });
    httpPort = operations.http!.port;
  });
  after(async () => {
    await atm?.close().catch(() => undefined);
    await operations?.close();
    await running?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an ATM signs on and asks: status, /metrics and /readyz show it', async () => {
    atm = await IsoClient.connect({ port: running.listener.port, timeoutMs: 5_000 });
    expect((await atm.request(networkRequest(atm.nextStan(), '001'))).get(39)).to.equal('00');
    const answer = await atm.request(balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMADMIN', pan: demo.approvedCard }));
    expect(answer.get(39)).to.equal('00');

    const cli = await runCli(['status', '--json', '--socket', socketPath]);
    expect(cli.status, cli.stderr).to.equal(0);
    const report = JSON.parse(cli.stdout) as { switch: { accepting: boolean; partners: { id: string; sessions: { signedOn: boolean }[] }[] }; recent: { count: number } };
    expect(report.switch.accepting).to.equal(true);
    expect(report.switch.partners.map((p) => p.id)).to.deep.equal(['demo']);
    expect(report.switch.partners[0]!.sessions.map((s) => s.signedOn)).to.deep.equal([true]);
    expect(report.recent.count).to.be.at.least(1);
    const table = await runCli(['status', '--socket', socketPath]);
    expect(table.stdout).to.match(/^demo +Demo Bank +shared 127\.0\.0\.1:\d+ +1 +1$/m);

    await running.journal.flush(); // the queue is empty now: the gauge must say 0, not merely be a number
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(sample(text, 'jht_transactions_total', '{partner="demo",mti="0200",response_code="00"}')).to.equal(1);
    expect(sample(text, 'jht_transactions_total', '{partner="demo",mti="0800",response_code="00"}')).to.equal(1);
    expect(sample(text, 'jht_transaction_latency_seconds_count', '{partner="demo"}')).to.equal(2);
    expect(sample(text, 'jht_connections', '{partner="demo"}')).to.equal(1);
    expect(sample(text, 'jht_signed_on_sessions', '{partner="demo"}')).to.equal(1);
    expect(sample(text, 'jht_in_flight', '')).to.equal(0);
    expect(sample(text, 'jht_ledger_breaker_state', '')).to.equal(0);
    expect(sample(text, 'jht_journal_queue_depth', '')).to.equal(0);
    const ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ready', checks: { listening: true, ledger: true, breaker: true } });
  });

  it('reload adds a partner; a configuration that does not validate is refused and changes nothing', async () => {
    const client = await AdminClient.connect(socketPath);
    try {
      nextConfig = () => configOf([DEMO, BANK_A]);
      expect(await client.reload()).to.deep.equal({ kept: ['demo'], added: ['bank-a'], changed: [], removed: [] });
      nextConfig = () => {
        throw new ConfigError('partners.yaml', 'partner "bank-x" (partners[2]): acquirerIds', 'Too small: expected array to have >=1 items');
      };
      const refused = await runCli(['reload', '--socket', socketPath]);
      expect(refused.status).to.equal(2);
      expect(refused.stderr).to.equal('error: the new configuration is refused, the running one is unchanged: ' +
        'partners.yaml: partner "bank-x" (partners[2]): acquirerIds: Too small: expected array to have >=1 items\n');
      expect((await client.status()).switch.partners.map((p) => p.id).sort()).to.deep.equal(['bank-a', 'demo']);
    } finally {
      await client.close();
    }
  });

  it('reload of a file with a YAML error on the MAC key\'s line: neither the CLI nor the JSON log shows the key', async () => {
    const key = '0123456789ABCDEFFEDCBA9876543210';
    const file = path.join(dir, 'broken.yaml');
    await writeFile(file, `partners:\n  - id: demo\n    mac: { algorithm: x9.19, key: ${key}, kcv: 08D7B4\n  bad: [\n`);
    nextConfig = () => loadConfig({ file, env: {} });
    const refused = await runCli(['reload', '--socket', socketPath]);
    expect(refused.status).to.equal(2);
    expect(refused.stderr).to.include(`${file}:4:3: not valid YAML`);
    expect(refused.stderr + logs.text).to.not.include(key.slice(0, 8));
    expect(logs.text).to.include('not valid YAML (BAD_INDENT)');
    nextConfig = () => configOf([DEMO, BANK_A]);
  });

  it('drain: the switch stops accepting, answers /readyz 503, and keeps its admin socket', async () => {
    const drain = await runCli(['drain', '--socket', socketPath]);
    expect(drain.status, drain.stderr).to.equal(0);
    expect(drain.stdout).to.match(/^drained: no longer accepting, 0 in flight\./);
    const notReady = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(notReady.status).to.equal(503);
    expect(await notReady.json()).to.deep.include({ checks: { listening: 'not accepting (draining or stopping)', ledger: true, breaker: true } });
    const refused = await IsoClient.connect({ port: running.listener.port, timeoutMs: 1_000 }).then((c) => c.close().then(() => false), () => true);
    expect(refused, 'no new connection after a drain').to.equal(true);
    const after = await runCli(['status', '--json', '--socket', socketPath]);
    expect(JSON.parse(after.stdout).switch.accepting).to.equal(false);
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(sample(text, 'jht_connections', '{partner="demo"}')).to.equal(0);
    expect(sample(text, 'jht_signed_on_sessions', '{partner="demo"}')).to.equal(0);
  });

  it('no log line carries the card number', () => {
    expect(logs.lines.length).to.be.above(0);
    expect(logs.text).to.not.include(demo.approvedCard);
  });
});
