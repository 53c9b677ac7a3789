/**
 * Shutdown has one deadline. With the database frozen (every PostgreSQL process stopped with SIGSTOP, the
 * way a partitioned network looks to the switch), SIGTERM still ends `serve` within its deadline; the last
 * log line counts the journal rows that were never written, and the exit status says the stop was not clean.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { balanceInquiry, networkRequest } from '../../src/client/atm-messages.js';
import { IsoClient } from '../../src/client/iso-client.js';
import { EXIT_UNCLEAN } from '../../src/cli/serve-command.js';
import { DEMO_PARTICIPANTS } from '../../src/ledger/index.js';
import { freePort } from '../support/database.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { uniqueStan } from '../support/switch-harness.js';

const CARD = DEMO_PARTICIPANTS[0]!.cards[0]!;
const DEADLINE_MS = 3_000;

/** The postmaster and its children (backends, checkpointer, WAL writer ...). */
function postgresProcesses(postmaster: number): number[] {
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n').map((line) => Number(line.trim())).filter((pid) => pid > 0);
  return [postmaster, ...children];
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

describe('integration: SIGTERM with the database frozen', function () {
  this.timeout(120_000);
  let dir: string;
  let serve: ServeProcess | undefined;
  let frozen: number[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-deadline-'));
    await chmod(dir, 0o755);
  });
  after(async () => {
    signalAll(frozen, 'SIGCONT');
    signalAll(frozen, 'SIGKILL');
    serve?.child.kill('SIGKILL');
    await serve?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it(`exits within its ${DEADLINE_MS} ms deadline with status ${EXIT_UNCLEAN}, counting the unwritten rows`, async () => {
    const port = await freePort();
    const configFile = path.join(dir, 'switch.json');
    await writeFile(configFile, JSON.stringify({
      listen: { host: '127.0.0.1', port },
      database: { dataDir: path.join(dir, 'pg'), embeddedPort: await freePort() },
      shutdown: { deadlineMs: DEADLINE_MS },
      admin: { socketPath: path.join(dir, 'admin.sock') },
      metrics: { port: 0 },
      channels: { rest: { port: 0 } },
    }));
    serve = await startServe(['--config', configFile], { DATABASE_URL: undefined });
    const atm = await IsoClient.connect({ port, timeoutMs: 10_000 });
    const inquiry = (): Promise<string | undefined> =>
      atm.request(balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'DEADLINE', pan: CARD })).then((m) => m.get(39));
    try {
      expect((await atm.request(networkRequest(uniqueStan(), '001'))).get(39)).to.equal('00');
      expect(await inquiry()).to.equal('00');
      const postmaster = Number((await readFile(path.join(dir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
      frozen = postgresProcesses(postmaster);
      signalAll(frozen, 'SIGSTOP');
      // Answered within the ledger's budget, their journal rows now wait for a database that does not answer.
      expect(await Promise.all([inquiry(), inquiry(), inquiry()])).to.deep.equal(['91', '91', '91']);
    } finally {
      await atm.close();
    }

    const signalled = Date.now();
    serve.child.kill('SIGTERM');
    const exit = await serve.exited;
    const took = Date.now() - signalled;
    expect(exit).to.deep.equal({ code: EXIT_UNCLEAN, signal: null });
    expect(took, 'time from SIGTERM to exit').to.be.lessThan(DEADLINE_MS + 2_000);
    const last = serve.logLines().at(-1);
    expect(last).to.include({ msg: 'stopped, not cleanly: what was not written is counted here', clean: false });
    expect(last?.unwrittenJournalRows).to.be.at.least(3);
  });
});
