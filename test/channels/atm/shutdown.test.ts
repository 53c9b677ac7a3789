import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { balanceInquiry, networkRequest } from '../../../src/client/atm-messages.js';
import { AdminClient } from '../../../src/admin/admin-client.js';
import { IsoClient } from '../../../src/client/iso-client.js';
import { demo, freePort, getTestDatabase, roleDatabaseUrl, sleep, uniqueStan, waitFor } from '../../support/index.js';

/** Starts `jht-switch serve` as its own process and resolves once it listens, admin socket included. */
async function startSwitchProcess(configFile: string, databaseUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', configFile], {
    // Tests run as root in CI and containers: the switch is told so, as a container's would be.
    env: { ...process.env, DATABASE_URL: databaseUrl, JHT_ALLOW_ROOT: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`switch did not start:\n${output}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      // The admin socket opens after the ISO listener: the test asks it how many requests are in flight.
      if (output.includes('"switch listening"') && output.includes('"admin socket listening"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => { if (process.env.DEBUG_CHILD) process.stderr.write(chunk); });
    child.on('exit', (code) => reject(new Error(`switch exited with ${code}:\n${output}`)));
  });
  return child;
}

describe('switch: SIGTERM with requests in flight', function () {
  this.timeout(120_000);

  it('answers and journals every one of 100 in-flight inquiries, then exits 0', async () => {
    const db = await getTestDatabase();
    // As deployed: serve logs in as a member of jht_switch, never as the superuser the fixtures use.
    const databaseUrl = await roleDatabaseUrl('jht_switch');
    const port = await freePort();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jht-shutdown-'));
    const configFile = path.join(dir, 'switch.json');
    // A generous ledger budget: the test holds the ledger back on purpose to keep requests in flight.
    await writeFile(configFile, JSON.stringify({
      listen: { host: '127.0.0.1', port },
      ledger: { timeoutMs: 10_000 },
      log: { level: 'info' },
      // This run's own operator socket and metrics port, never the checkout's .data or a live switch's 9583.
      admin: { socketPath: path.join(dir, 'admin.sock') },
      metrics: { port: 0 },
      channels: { rest: { port: 0 } },
    }));
    const child = await startSwitchProcess(configFile, databaseUrl);
    const lock = await db.pool.connect();
    try {
      const atm = await IsoClient.connect({ port, timeoutMs: 30_000 });
      expect((await atm.request(networkRequest(uniqueStan(), '001'))).get(39)).to.equal('00');

      // Hold the balances table so every inquiry waits inside the switch.
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE jht_balance IN ACCESS EXCLUSIVE MODE');
      const stans = Array.from({ length: 100 }, () => uniqueStan());
      const answers = Promise.all(stans.map((stan) =>
        atm.request(balanceInquiry({ stan, acquirerId: '99901', terminalId: 'ATMSTOP1', pan: demo.approvedCard }))));

      // All 100 in the pipeline, and their claim-and-read statement waiting on the lock, before the signal.
      const admin = await AdminClient.connect(path.join(dir, 'admin.sock'));
      let inFlight = 0;
      let waiting = 0;
      try {
        await waitFor(async () => {
          inFlight = (await admin.status()).switch.inFlight;
          const { rows } = await db.pool.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO inquiry_key%'");
          waiting = Number(rows[0]!.n);
          return inFlight === 100 && waiting > 0;
        }, { what: () => `100 requests in flight (have ${inFlight}) and statements waiting on the lock (have ${waiting})`, timeoutMs: 20_000, intervalMs: 20 });
      } finally {
        await admin.close();
      }
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      await sleep(300);
      await lock.query('COMMIT');

      const codes = (await answers).map((a) => a.get(39));
      expect(codes).to.deep.equal(stans.map(() => '00'));
      expect(await exited).to.equal(0);
      const { rows } = await db.pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM journal WHERE terminal_id = $1 AND stan = ANY($2) AND response_code = '00'", ['ATMSTOP1', stans]);
      expect(Number(rows[0]!.n)).to.equal(100);
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      lock.release();
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
