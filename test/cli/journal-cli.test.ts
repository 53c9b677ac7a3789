import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { roleDatabaseUrl, runCli } from '../support/index.js';

describe('cli: jht-switch journal maintain', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-journal-cli-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("with the owner's URL: reports the partitions ahead and the retention, and drops nothing inside it", async () => {
    const result = await runCli(['journal', 'maintain', '--allow-root'], undefined, { JHT_MIGRATE_DATABASE_URL: await roleDatabaseUrl('jht_owner') });
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^journal: partitions up to \d{4}-\d{2}-01; retention 12 months \(rows before \d{4}-\d{2}-\d{2} may go\); detached none; dropped none\n$/);
  });

  it('refuses a retention under 12 months in one line, exit 2, before touching the database', async () => {
    const config = path.join(dir, 'short.json');
    await writeFile(config, JSON.stringify({ journal: { retentionMonths: 6 } }));
    const result = await runCli(['journal', 'maintain', '--config', config], undefined, { JHT_MIGRATE_DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' });
    expect(result.status).to.equal(2);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(result.stderr).to.include('journal.retentionMonths').and.to.include('at least 12');
  });

  it("refuses the switch's credentials: dropping journal months is the owner's duty", async () => {
    const result = await runCli(['journal', 'maintain', '--allow-root'], undefined, { JHT_MIGRATE_DATABASE_URL: await roleDatabaseUrl('jht_switch') });
    expect(result.status).to.equal(2);
    expect(result.stderr).to.include("use the schema owner's credentials");
  });
});
