/**
 * The embedded PostgreSQL is supervised: killed with SIGKILL under a running `serve`, it is restarted with
 * backoff while the ATM gets 91 within the ledger's budget, and the ATM gets 00 again with no operator action.
 */
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { balanceInquiry, networkRequest } from '../../src/client/atm-messages.js';
import { IsoClient } from '../../src/client/iso-client.js';
import { DEMO_PARTICIPANTS } from '../../src/ledger/index.js';
import { freePort } from '../support/database.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { uniqueStan } from '../support/switch-harness.js';

const CARD = DEMO_PARTICIPANTS[0]!.cards[0]!;

describe('integration: the embedded PostgreSQL is supervised', function () {
  this.timeout(180_000);
  let dir: string;
  let serve: ServeProcess | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-supervise-'));
    await chmod(dir, 0o755); // as root, postgres runs as its own user and must enter the directory
  });
  after(async () => {
    serve?.child.kill('SIGKILL');
    await serve?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('killed with SIGKILL, it comes back by itself: 91 meanwhile, then 00, and serve exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const configFile = path.join(dir, 'switch.json');
    await writeFile(configFile, JSON.stringify({
      listen: { host: '127.0.0.1', port },
      database: { dataDir: path.join(dir, 'pg'), embeddedPort: await freePort() },
      ledger: { breakerResetMs: 500 },
      admin: { socketPath: path.join(dir, 'admin.sock') },
      metrics: { port: 0 },
      channels: { rest: { port: 0 } },
    }));
    serve = await startServe(['--config', configFile], { DATABASE_URL: undefined });
    const atm = await IsoClient.connect({ port, timeoutMs: 10_000 });
    try {
      const inquiry = (): Promise<string | undefined> =>
        atm.request(balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'SUPERVIS', pan: CARD })).then((m) => m.get(39));
      expect((await atm.request(networkRequest(uniqueStan(), '001'))).get(39)).to.equal('00');
      expect(await inquiry()).to.equal('00');

      const postmaster = Number((await readFile(path.join(dir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
      expect(postmaster).to.be.greaterThan(1);
      process.kill(postmaster, 'SIGKILL');

      const seen: string[] = [];
      const deadline = Date.now() + 60_000;
      for (;;) {
        const code = await inquiry();
        seen.push(code ?? 'none');
        if (code === '00' && seen.includes('91')) break;
        if (Date.now() > deadline) throw new Error(`never 91 then 00 again: ${seen.length} answers, codes ${[...new Set(seen)].join(',')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(seen.every((code) => code === '91' || code === '00'), `answers: ${seen.join(',')}`).to.equal(true);
      await serve.waitForLog('embedded PostgreSQL restarted');
      const restarted = Number((await readFile(path.join(dir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
      expect(restarted).to.not.equal(postmaster);
    } finally {
      await atm.close();
    }
    serve.child.kill('SIGTERM');
    expect(await serve.exited).to.deep.equal({ code: 0, signal: null });
    const last = serve.logLines().at(-1);
    expect(last).to.include({ msg: 'stopped', clean: true, unwrittenJournalRows: 0 });
  });
});
