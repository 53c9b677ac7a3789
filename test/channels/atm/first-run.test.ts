import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { demo, freePort, runCli, waitFor } from '../../support/index.js';

const BIN = fileURLToPath(new URL('../../../bin/jht-switch.js', import.meta.url));

/**
 * What a newcomer's `npm start` does on a fresh checkout: the default data directory (.data, made by the
 * switch), an embedded PostgreSQL initialised and seeded there, the admin socket beside it. Only the ports
 * are this test's own.
 */
describe('switch: first run in a fresh directory, embedded PostgreSQL', function () {
  this.timeout(120_000);

  it('initialises, serves the demo data, and stops cleanly on SIGINT', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jht-first-run-'));
    await chmod(dir, 0o755); // as a checkout under /work or /home is
    try {
      const port = await freePort();
      const embeddedPort = await freePort();
      await writeFile(path.join(dir, 'switch.json'), JSON.stringify({
        listen: { port }, database: { embeddedPort }, metrics: { port: await freePort() }, channels: { rest: { port: await freePort() } },
      }));
      const child = spawn(process.execPath, [BIN, 'serve', '--config', 'switch.json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await waitFor(() => {
        if (child.exitCode !== null) throw new Error(`the switch exited with ${child.exitCode}:\n${output}`);
        return output.includes('Stop with Ctrl-C');
      }, { what: () => `the switch to start:\n${output}`, timeoutMs: 90_000, intervalMs: 100 });
      // The switch serves as its own login, a member of jht_switch; the superuser only migrated and seeded.
      const superuser = new pg.Client({
        host: '127.0.0.1', port: embeddedPort, user: 'postgres', database: 'jht_switch',
        password: (await readFile(path.join(dir, '.data/postgres.password'), 'utf8')).trim(),
      });
      await superuser.connect();
      try {
        const { rows } = await superuser.query<{ usename: string }>(
          "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'jht-switch'");
        expect(rows.map((row) => row.usename)).to.deep.equal(['jht_switch_login']);
        expect((await stat(path.join(dir, '.data/postgres.jht_switch_login.password'))).mode & 0o777).to.equal(0o600);
      } finally {
        await superuser.end();
      }
      const atm = await runCli(['atm', '--port', String(port), '--pan', demo.approvedCard]);
      // The balance as an Indonesian reads it (Rp 15.250.000,00), spelled by ICU rather than by the code under test.
      const sen = demo.approved.balanceSen;
      expect(atm.stdout, atm.stderr).to.include(`Rp ${(sen / 100n).toLocaleString('id-ID')},${String(sen % 100n).padStart(2, '0')}`);
      const status = await runCli(['status', '--socket', path.join(dir, '.data/jht-switch.sock')]);
      expect(status.status, status.stderr).to.equal(0);
      child.kill('SIGINT');
      expect(await exited).to.equal(0);
      expect(output).to.include('embedded PostgreSQL stopped');
      // As root (CI, containers), the embedded demo still runs, with a warning (src/cli/root-guard.ts).
      if (process.getuid?.() === 0) expect(output).to.include('running as root: acceptable for the embedded demo only');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
