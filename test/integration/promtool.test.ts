/**
 * What the switch exposes to Prometheus is checked by Prometheus' own tool (promtool, Debian package
 * `prometheus`): the /metrics text of a switch that has served traffic, and every rule file in ops/prometheus/.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { adminConfigSchema } from '../../src/admin/config.js';
import { startOperations, type Operations } from '../../src/admin/operations.js';
import { balanceInquiry } from '../../src/client/atm-messages.js';
import { switchConfigSchema } from '../../src/config/schema.js';
import { DEMO_PARTICIPANTS, DEMO_UNLINKED_CARD } from '../../src/ledger/index.js';
import { metricsConfigSchema } from '../../src/observability/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createSwitchMetrics } from '../../src/observability/metrics.js';
import { startSwitch, type RunningSwitch } from '../../src/channels/atm/jht-switch.js';
import { IsoClient } from '../../src/client/iso-client.js';
import { networkRequest } from '../../src/iso8583/vocabulary/index.js';
import { getTestDatabase } from '../support/database.js';
import { LogCapture, uniqueStan } from '../support/switch-harness.js';
import { requireBinary } from '../support/system-packages.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * prom-client's default Node.js metrics name three gauges `..._total`, which promtool's lint flags. Their
 * names are prom-client's and what the usual Node.js dashboards query, so they are kept; every metric the
 * switch defines itself must pass the lint.
 */
const PROM_CLIENT_DEFAULT_NAMES = /^jht_nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

function promtool(bin: string, args: string[], input?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { cwd: ROOT }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('integration: promtool checks what the switch gives Prometheus', function () {
  this.timeout(60_000);
  let bin: string;
  let dir: string;
  let running: RunningSwitch;
  let operations: Operations;

  before(async function () {
    bin = requireBinary(this, 'promtool', 'prometheus');
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-promtool-'));
    const metrics = createSwitchMetrics();
    const log = createLogger({ level: 'info', destination: new LogCapture() });
    const config = switchConfigSchema.parse({ listen: { host: '127.0.0.1', port: 0 } });
    running = await startSwitch(config, log, { database: await getTestDatabase(), observer: metrics });
    operations = await startOperations({
      running, metrics, log,
      admin: adminConfigSchema.parse({ socketPath: path.join(dir, 'admin.sock') }),
      http: metricsConfigSchema.parse({ port: 0 }),
      ledgerTimeoutMs: config.ledger.timeoutMs,
    });
  });
  after(async () => {
    await operations?.close();
    await running?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the /metrics text of a switch that answered 00 and 14 passes `promtool check metrics`', async () => {
    const client = await IsoClient.connect({ port: running.listener.port, timeoutMs: 5_000 });
    try {
      expect((await client.request(networkRequest(client.nextStan(), '001'))).get(39)).to.equal('00');
      for (const pan of [DEMO_PARTICIPANTS[0]!.cards[0]!, DEMO_UNLINKED_CARD]) {
        await client.request(balanceInquiry({ stan: uniqueStan(), pan, acquirerId: '99901', terminalId: 'PROMTOOL' }));
      }
    } finally {
      await client.close();
    }
    const response = await fetch(`http://127.0.0.1:${operations.http!.port}/metrics`);
    const text = await response.text();
    expect(text).to.match(/^jht_/m);
    const checked = await promtool(bin, ['check', 'metrics'], text);
    const findings = checked.output.split('\n').map((line) => line.trim()).filter((line) => line && !PROM_CLIENT_DEFAULT_NAMES.test(line));
    expect(findings, 'promtool check metrics findings').to.deep.equal([]);
    expect(checked.output, 'promtool read the exposition').not.to.match(/error while linting|parse/i);
  });

  it('every rule file in ops/prometheus/ passes `promtool check rules`, and their unit tests `promtool test rules`', async () => {
    const files = (await readdir(path.join(ROOT, 'ops/prometheus'))).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join('ops/prometheus', f));
    const rules = files.filter((f) => !/\.test\.ya?ml$/.test(f));
    const tests = files.filter((f) => /\.test\.ya?ml$/.test(f));
    expect(rules.length, 'rule files').to.be.greaterThan(0);
    expect(tests.length, 'rule unit tests').to.be.greaterThan(0);
    const checked = await promtool(bin, ['check', 'rules', ...rules]);
    expect(checked.code, checked.output).to.equal(0);
    const tested = await promtool(bin, ['test', 'rules', ...tests]);
    expect(tested.code, tested.output).to.equal(0);
  });

  it('the switch under test runs on a durable cluster: fsync and synchronous commit on', async () => {
    const { pool } = await getTestDatabase();
    const { rows } = await pool.query<{ fsync: string; sync: string }>(
      `SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync`,
    );
    expect(rows[0]).to.deep.equal({ fsync: 'on', sync: 'on' });
  });
});
