import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { IMPORTER_ROLE } from '../../src/ledger/roles.js';
import { clearIdentifiers, roleDatabaseUrl, runCli } from '../support/index.js';

/**
 * The data commands as a user runs them, on the shared test database as the importer (DATABASE_URL). Only
 * files that apply nothing (invalid, or --dry-run) are imported here, so the shared database stays the demo.
 */
describe('cli: import, participant show, link', function () {
  this.timeout(60_000);
  let env: NodeJS.ProcessEnv;
  let dir: string;
  before(async () => {
    env = { DATABASE_URL: await roleDatabaseUrl(IMPORTER_ROLE) };
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-import-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('an invalid file: FILE:LINE: column: reason for each of the first 20, the total, exit 2, and no value echoed', async () => {
    const file = path.join(dir, 'participants.csv');
    const rows = Array.from({ length: 22 }, (_, i) => `1200000000${i % 10},3171234567890001,NAME,ACTIVE,08123456789${i % 10},x${i}@@example.co.id`);
    await writeFile(file, `kpj,nik,name,status,msisdn,email\n${rows.join('\n')}\n`);
    const result = await runCli(['import', 'participants', file], undefined, env);
    expect(result.status).to.equal(2);
    const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('{'));
    expect(lines[0]).to.equal(`${file}:2: column email: not an e-mail address`);
    expect(lines).to.have.length(21);
    expect(lines.at(-1)).to.equal(`error: 22 error(s) (the first 20 are above): nothing of ${file} was applied`);
    // pino's own timestamp (13 digits) is left out of the log lines: it is not card data.
    const logs = result.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => line.replace(/"time":\d+,/, ''));
    expect(clearIdentifiers([...lines, ...logs, result.stdout].join('\n'))).to.deep.equal([]);
  });

  it('--dry-run checks and counts, applies nothing, and says so; standard input is read with -', async () => {
    const result = await runCli(['import', 'participants', '-', '--dry-run'], 'kpj,name,status\n12999999999,DRY RUN,ACTIVE\n', env);
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^stdin: 1 rows: 1 inserted, 0 updated, 0 unchanged, 0 removed, 0 moved, 0 rekeyed\n/);
    expect(result.stdout).to.include('dry run: nothing was applied');
    const show = await runCli(['participant', 'show', '12999999999'], undefined, env);
    expect(show.status).to.equal(2);
  });

  it('several files: KIND FILE pairs in order; a failing file names what was not imported; --dry-run takes one file', async () => {
    const participants = path.join(dir, 'several-participants.csv');
    const links = path.join(dir, 'several-links.csv');
    await writeFile(participants, 'kpj,name,status\n1299999999,SHORT KPJ,ACTIVE\n');
    await writeFile(links, 'kind,number,kpj,status\nCARD,4111111111111111,12000000001,ACTIVE\n');
    const failed = await runCli(['import', 'participants', participants, 'links', links], undefined, env);
    expect(failed.status).to.equal(2);
    expect(failed.stderr).to.include(`${participants}:2: column kpj: not 11 digits`)
      .and.include(`error: 1 error(s): nothing of ${participants} was applied; not imported: ${links}`);
    for (const args of [['participants', participants, 'links'], ['participants', participants, 'cards', links],
      ['participants', '-', 'links', '-'], ['participants', participants, 'links', links, '--dry-run']]) {
      const refused = await runCli(['import', ...args], '', env);
      expect(refused.status, args.join(' ')).to.equal(2);
      expect(refused.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
    }
  });

  it('participant show: masked contacts and links, the balance and its as-of date', async () => {
    const result = await runCli(['participant', 'show', '12000000001'], undefined, env);
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.include('MSISDN   …0001').and.include('e-mail   b***@example.co.id')
      .and.include('balance  Rp 15.250.000,00 as of 2026-10-31').and.include('CARD    …0001 ACTIVE').and.include('ACCOUNT …7890 ACTIVE');
    expect(clearIdentifiers(result.stdout)).to.deep.equal([]);
  });

  it('link takes the number from standard input only, and says when it is not linked', async () => {
    expect((await runCli(['link', 'block', '4111111111111111'], undefined, env)).status).to.equal(2);
    const unknown = await runCli(['link', 'block'], '4111111111111111\n', env);
    expect(unknown.status).to.equal(2);
    expect(unknown.stderr).to.include('error: no card with that number is linked').and.not.include('4111111111111111');
    const invalid = await runCli(['link', 'remove'], '4111111111111112\n', env);
    expect(invalid.stderr).to.include('standard input: not a card number').and.not.include('4111111111111112');
  });
});
