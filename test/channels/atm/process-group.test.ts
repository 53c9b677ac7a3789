import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { balanceInquiry, networkRequest } from '../../../src/client/atm-messages.js';
import { IsoClient } from '../../../src/client/iso-client.js';
import { demo, freePort, startServe, uniqueStan, type ServeProcess } from '../../support/index.js';

/** Field 5 of /proc/<pid>/stat: the process group. (The command, field 2, is in parentheses and may hold spaces.) */
async function processGroupOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

describe('switch: Ctrl-C in a terminal (SIGINT to the whole process group), embedded PostgreSQL', function () {
  this.timeout(120_000);
  let dir: string;
  let serve: ServeProcess | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-ctrl-c-'));
    await chmod(dir, 0o755); // as root the cluster runs as postgres, which must reach its directory
  });
  after(async () => {
    if (serve?.child.exitCode === null) serve.child.kill('SIGKILL');
    await serve?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('the postmaster is outside the group, so the switch drains, writes its journal, then stops the database', async () => {
    const configFile = path.join(dir, 'switch.json');
    const embeddedPort = await freePort();
    await writeFile(configFile, JSON.stringify({
      listen: { host: '127.0.0.1', port: await freePort() },
      database: { dataDir: path.join(dir, 'pg'), embeddedPort },
      admin: { socketPath: path.join(dir, 'admin.sock') },
      metrics: { port: 0 },
      log: { level: 'debug' },
    }));
    serve = await startServe(['--config', configFile], { DATABASE_URL: undefined, NODE_ENV: 'production' }, { processGroup: true });
    const pid = serve.child.pid!;
    const postmaster = Number((await readFile(path.join(dir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    expect(await processGroupOf(pid), 'serve leads its own group, as a shell job').to.equal(pid);
    expect(await processGroupOf(postmaster), "the postmaster is not in serve's group").not.to.equal(pid);

    const port = (JSON.parse(await readFile(configFile, 'utf8')) as { listen: { port: number } }).listen.port;
    const atm = await IsoClient.connect({ port, timeoutMs: 5_000 });
    expect((await atm.request(networkRequest(uniqueStan(), '001'))).get(39), 'sign-on').to.equal('00');
    const request = balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'CTRLC001', pan: demo.approvedCard });
    expect((await atm.request(request)).get(39)).to.equal('00');
    await atm.close();

    process.kill(-pid, 'SIGINT');
    const exit = await serve.exited;
    const messages = serve.logLines().map((line) => String(line.msg));
    expect(exit, serve.output()).to.deep.equal({ code: 0, signal: null });
    expect(messages.some((m) => m.includes('embedded PostgreSQL died')), 'the supervisor saw no death').to.equal(false);
    expect(messages.some((m) => m.startsWith('shutdown: step')), 'no shutdown step failed').to.equal(false);
    const last = serve.logLines().find((line) => line.msg === 'stopped');
    expect(last, 'the last line counts what was not written').to.deep.include({ clean: true, unwrittenJournalRows: 0, failedSteps: [] });
    const stopped = messages.indexOf('ledger: embedded PostgreSQL stopped');
    expect(stopped, 'the database stopped, and said so').to.be.greaterThan(-1);
    expect(messages.slice(stopped).some((m) => m.includes('journal')), 'nothing about the journal after the database stopped').to.equal(false);
  });
});
