/**
 * Many switches, one database: two `serve` instances behind the real HAProxy running ops/haproxy.cfg
 * (send-proxy-v2, health checks on /readyz over HTTPS), under load from ATM hosts
 * that reconnect and repeat (src/client/atm-host.ts). `kill -9` of one instance, and a rolling restart with
 * `drain`, each end with every request answered exactly once: 00 from the survivor, directly or through its
 * 0201, and one processing per request in the journal.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { AdminClient } from '../../src/admin/admin-client.js';
import { AtmHost } from '../../src/client/atm-host.js';
import { balanceInquiry } from '../../src/client/atm-messages.js';
import { DEMO_PARTICIPANTS } from '../../src/ledger/index.js';
import { createCertificateAuthority, issueCertificate } from '../../src/transport/tls/dev-certificates.js';
import {
  freePort, getTestDatabase, haproxyConfig, requireBinary, roleDatabaseUrl, sleep, startHaproxy, startServe, waitFor,
  type RunningHaproxy, type ServeProcess,
} from '../support/index.js';

const CARDS = DEMO_PARTICIPANTS.filter((p) => p.membershipStatus === 'ACTIVE').flatMap((p) => p.cards);
const HOSTS = 4;
const WORKERS_PER_HOST = 5;

interface Instance {
  readonly name: string;
  readonly port: number;
  readonly checkPort: number;
  readonly config: string;
  readonly socket: string;
  serve?: ServeProcess;
}

interface Outcome {
  stan: string;
  code?: string;
  error?: string;
  attempts: number;
}

/** ATM hosts sending inquiries back to back through HAProxy until stopped; one outcome per request. */
function runLoad(port: number, terminal: string): { stop(): Promise<{ outcomes: Outcome[]; reconnects: number }> } {
  let running = true;
  let stan = 0;
  const outcomes: Outcome[] = [];
  let reconnects = 0;
  const hosts = Array.from({ length: HOSTS }, () => AtmHost.open({
    port, timeoutMs: 2_000, maxRepeats: 6, connectDeadlineMs: 20_000, reconnect: { baseMs: 50, maxMs: 500 },
  }));
  const work = hosts.map(async (opening, h) => {
    const host = await opening;
    await Promise.all(Array.from({ length: WORKERS_PER_HOST }, async (_, w) => {
      while (running) {
        const request = balanceInquiry({
          stan: String(++stan).padStart(6, '0'), acquirerId: '99901', terminalId: terminal, pan: CARDS[(h + w) % CARDS.length]!,
        });
        const outcome: Outcome = { stan: request.get(11)!, attempts: 0 };
        outcomes.push(outcome);
        try {
          const { response, attempts } = await host.inquire(request);
          outcome.code = response.get(39);
          outcome.attempts = attempts;
        } catch (error) {
          outcome.error = error instanceof Error ? error.message : String(error);
        }
      }
    }));
    reconnects += host.reconnects;
    await host.close();
  });
  return {
    async stop() {
      running = false;
      await Promise.all(work);
      return { outcomes, reconnects };
    },
  };
}

/** Every request got 00, and the journal shows exactly one processing of each (a request or a reprocessing). */
async function expectExactlyOnce(outcomes: readonly Outcome[], terminal: string): Promise<void> {
  expect(outcomes.filter((o) => o.error !== undefined).map((o) => o.error), 'requests without a final answer').to.deep.equal([]);
  expect(outcomes.filter((o) => o.code !== '00').map((o) => o.code), 'final answers other than 00').to.deep.equal([]);
  const { pool } = await getTestDatabase();
  const { rows } = await pool.query<{ stan: string; processed: number }>(
    `SELECT stan, count(*) FILTER (WHERE kind IN ('request', 'reprocessed') AND response_code = '00')::int AS processed
       FROM journal WHERE terminal_id = $1 GROUP BY stan`, [terminal.padEnd(8, ' ')]);
  const processed = new Map(rows.map((r) => [r.stan, r.processed]));
  const wrong = outcomes.filter((o) => processed.get(o.stan) !== 1).map((o) => `${o.stan}: ${processed.get(o.stan) ?? 0}`);
  expect(wrong, `requests not processed exactly once (of ${outcomes.length})`).to.deep.equal([]);
}

describe('integration: two switches behind HAProxy on one database', function () {
  this.timeout(240_000);
  let haproxyBinary: string;
  let dir: string;
  let haproxy: RunningHaproxy | undefined;
  const instances: Instance[] = [];

  before(async function () {
    haproxyBinary = requireBinary(this, 'haproxy', 'haproxy');
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-failover-'));
    const databaseUrl = await roleDatabaseUrl('jht_switch');
    const ca = createCertificateAuthority('metrics CA');
    const metricsCert = issueCertificate(ca, { commonName: 'jht-switch metrics', usage: 'server', altNames: ['127.0.0.1'] });
    await writeFile(path.join(dir, 'ca.pem'), ca.certPem);
    await writeFile(path.join(dir, 'metrics.key'), metricsCert.keyPem, { mode: 0o600 });
    await writeFile(path.join(dir, 'metrics.cert'), metricsCert.certPem);
    for (const name of ['a', 'b']) {
      const instance: Instance = {
        name, port: await freePort(), checkPort: await freePort(),
        config: path.join(dir, `${name}.json`), socket: path.join(dir, `${name}.sock`),
      };
      await writeFile(instance.config, JSON.stringify({
        listen: { host: '127.0.0.1', port: instance.port },
        // HAProxy connects from 127.0.0.1 and sends PROXY v2: the switch binds the demo partner by the ATM host's address.
        transport: { trustedProxies: ['127.0.0.1'] },
        partners: [{ id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'], limits: { requestsPerSecond: 5_000 } }],
        admin: { socketPath: instance.socket },
        channels: { rest: { port: 0 } },
        metrics: { host: '127.0.0.1', port: instance.checkPort, tls: { keyFile: path.join(dir, 'metrics.key'), certFile: path.join(dir, 'metrics.cert') } },
      }));
      instances.push(instance);
    }
    process.env.JHT_FAILOVER_DATABASE_URL = databaseUrl;
    await Promise.all(instances.map(async (i) => { i.serve = await start(i); }));
    const frontend = { host: '127.0.0.1', port: await freePort() };
    const backends = instances.map((i) => ({ iso: i.port, metrics: i.checkPort }));
    haproxy = await startHaproxy(haproxyBinary, dir, frontend, await haproxyConfig(frontend, backends, path.join(dir, 'ca.pem')));
  });
  after(async () => {
    await haproxy?.stop();
    for (const i of instances) {
      i.serve?.child.kill('SIGKILL');
      await i.serve?.exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Resolves once HAProxy has logged `instance` going `state` one more time than `seen` (a count taken before). */
  function marked(instance: Instance, state: 'UP' | 'DOWN'): { seen: () => Promise<void> } {
    const server = `switch${instances.indexOf(instance) + 1}`;
    const count = (): number => haproxy!.log().split(`${server} is ${state}`).length - 1;
    const before = count();
    return {
      seen: () => waitFor(() => count() > before, { what: () => `HAProxy to mark ${server} ${state}:\n${haproxy!.log()}`, timeoutMs: 15_000 }),
    };
  }

  function start(instance: Instance): Promise<ServeProcess> {
    return startServe(['--config', instance.config], { DATABASE_URL: process.env.JHT_FAILOVER_DATABASE_URL });
  }

  it('kill -9 of one instance under load: every request ends with exactly one final answer, none processed twice', async () => {
    const terminal = `F${randomBytes(3).toString('hex').toUpperCase()}`;
    const load = runLoad(haproxy!.port, terminal);
    await sleep(1_500);
    const victim = instances[0]!;
    victim.serve!.child.kill('SIGKILL');
    await victim.serve!.exited;
    await sleep(3_000);
    const { outcomes, reconnects } = await load.stop();
    expect(outcomes.length, 'inquiries sent').to.be.greaterThan(200);
    expect(reconnects, 'ATM hosts that reconnected to the survivor').to.be.at.least(1);
    expect(outcomes.some((o) => o.attempts > 1), 'some requests needed their 0201 through the survivor').to.equal(true);
    await expectExactlyOnce(outcomes, terminal);
    const up = marked(victim, 'UP');
    victim.serve = await start(victim);
    await up.seen();
  });

  it('a rolling restart with drain, one instance at a time, under load: 0 errors', async () => {
    const terminal = `R${randomBytes(3).toString('hex').toUpperCase()}`;
    const load = runLoad(haproxy!.port, terminal);
    await sleep(1_000);
    for (const instance of instances) {
      const down = marked(instance, 'DOWN');
      const admin = await AdminClient.connect(instance.socket);
      try {
        await admin.drain();
      } finally {
        await admin.close();
      }
      // /readyz answers 503 once drained: HAProxy sends it nothing new (fall 2, every second).
      await down.seen();
      const up = marked(instance, 'UP');
      instance.serve!.child.kill('SIGTERM');
      expect((await instance.serve!.exited).code, `${instance.name} exits cleanly after its drain`).to.equal(0);
      instance.serve = await start(instance);
      await up.seen();
    }
    const { outcomes, reconnects } = await load.stop();
    expect(outcomes.length, 'inquiries sent').to.be.greaterThan(200);
    // Each drain ends the connections on its instance: every host is moved at least once over the two drains.
    expect(reconnects, 'ATM hosts moved by the drains').to.be.at.least(HOSTS);
    await expectExactlyOnce(outcomes, terminal);
  });
});
