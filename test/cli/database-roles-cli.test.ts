import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import pg from 'pg';
import type { Pool } from 'pg';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, migrate } from '../../src/ledger/index.js';
import { ensureLoginUser } from '../../src/ledger/roles.js';
import { silentLogger } from '../../src/observability/logger.js';
import { freePort, getTestDatabase, roleDatabaseUrl } from '../support/database.js';
import { runCli, type CliResult } from '../support/run-cli.js';

const BIN = fileURLToPath(new URL('../../bin/jht-switch.js', import.meta.url));

/**
 * pg-pool's end() resolves before its sockets have closed: DROP DATABASE ... WITH (FORCE) right after may
 * still terminate one of them, which must not be an uncaught error.
 */
function scratchPool(connectionString: string): Pool {
  const pool = new pg.Pool({ connectionString, max: 1 });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * `jht-switch serve` as a user runs it, stopped after `ms` if it has not exited by itself: every case here
 * expects a refusal, and a switch that started instead must fail the test, not hang it.
 */
async function serveRefusal(args: readonly string[], env: NodeJS.ProcessEnv, ms = 20_000): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), ms);
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { status, stdout, stderr };
}

/** A superuser's connection string for `database` on the shared test server. */
function superuserUrl(admin: Pool, database: string): string {
  const { options } = admin;
  if (options.connectionString) {
    const url = new URL(options.connectionString);
    url.pathname = `/${database}`;
    return url.toString();
  }
  return `postgresql://${options.user}:${encodeURIComponent(String(options.password))}@${options.host}:${options.port}/${database}`;
}

describe('cli: serve holds no owner credentials, migrate does (external database)', function () {
  this.timeout(60_000);
  let admin: Pool;
  let dir: string;
  let configFile: string;
  const allowRoot = { JHT_ALLOW_ROOT: '1' };

  before(async function () {
    const db = await getTestDatabase();
    if (!db.embedded) this.skip(); // creates databases on a server of its own
    admin = db.pool;
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-roles-cli-'));
    configFile = path.join(dir, 'switch.json');
    await writeFile(configFile, JSON.stringify({
      listen: { host: '127.0.0.1', port: await freePort() },
      admin: { socketPath: path.join(dir, 'admin.sock') },
      metrics: { port: 0 },
      channels: { rest: { port: 0 } },
    }));
  });
  after(async () => dir && rm(dir, { recursive: true, force: true }));

  it('serve refuses to run as root on a real database, and says why', async function () {
    if (process.getuid?.() !== 0) this.skip(); // CI and containers run as root; elsewhere there is nothing to refuse
    const result = await serveRefusal(['--config', configFile], { DATABASE_URL: await roleDatabaseUrl('jht_switch'), JHT_ALLOW_ROOT: '' });
    expect(result.status, result.stderr).to.equal(2);
    expect(result.stderr.trim()).to.match(/^error: serve refuses to run as root outside the embedded demo: .*--allow-root \(JHT_ALLOW_ROOT=1\)/);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
  });

  it("serve refuses a superuser's DATABASE_URL", async () => {
    const result = await serveRefusal(['--config', configFile, '--allow-root'], { DATABASE_URL: superuserUrl(admin, (await getTestDatabase()).pool.options.database ?? 'jht_switch') });
    expect(result.status, result.stderr).to.equal(2);
    expect(result.stderr).to.match(/^error: the database user \S+ is a superuser: serve connects as a member of jht_switch only/);
  });

  it('serve does not seed an external database: that is migrate --seed-demo, with the owner', async () => {
    const result = await serveRefusal(['--config', configFile, '--seed-demo'], { ...allowRoot, DATABASE_URL: await roleDatabaseUrl('jht_switch') });
    expect(result.status, result.stderr).to.equal(2);
    expect(result.stderr.trim()).to.equal('error: the demo data is seeded into an external database by `jht-switch migrate --seed-demo` (owner credentials)');
  });

  describe('on a database migrated by an older version', () => {
    const name = `jht_roles_${randomBytes(4).toString('hex')}`;
    let url: string;

    before(async () => {
      await admin.query(`CREATE DATABASE ${name}`);
      url = superuserUrl(admin, name);
      // The migrations of the version before this one: 001-005 only.
      const older = path.join(dir, 'migrations-005');
      await rm(older, { recursive: true, force: true });
      await mkdir(older);
      for (const file of (await readdir(DEFAULT_MIGRATIONS_DIR)).filter((f) => /^00[1-5]_/.test(f))) {
        await copyFile(path.join(DEFAULT_MIGRATIONS_DIR, file), path.join(older, file));
      }
      const pool = scratchPool(url);
      try {
        await migrate(pool, { log: silentLogger(), dir: older });
      } finally {
        await pool.end();
      }
    });
    after(async () => admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

    it('serve refuses a schema older than the code, in one line, exit 2', async () => {
      const latest = (await loadMigrations()).at(-1)!.version;
      const result = await serveRefusal(['--config', configFile], { ...allowRoot, DATABASE_URL: url });
      expect(result.status, result.stderr).to.equal(2);
      expect(result.stderr.trim()).to.equal(`error: the database schema is at version 5, this switch needs ${latest}: ` +
        'run `jht-switch migrate` with the owner\'s credentials first (docs/database.md)');
    });

    it("migrate applies the migrations with the owner's URL; then the switch's role has its grants there", async () => {
      const latest = (await loadMigrations()).at(-1)!.version;
      const result = await runCli(['migrate', '--database-url', url], '', allowRoot);
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.match(new RegExp(`^schema at version ${latest}: postgresql://\\S+ \\(real\\)\\n$`));
      expect(result.stdout + result.stderr).not.to.include(String((await getTestDatabase()).pool.options.password));
      const pool = scratchPool(url);
      try {
        const { rows: [check] } = await pool.query<{ journal: boolean; postings: boolean; owner: string }>(`
          SELECT has_table_privilege('jht_switch', 'journal', 'INSERT') AS journal,
                 has_table_privilege('jht_switch', 'jht_posting', 'UPDATE') AS postings,
                 pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'jht_posting'`);
        expect(check).to.deep.equal({ journal: true, postings: false, owner: 'jht_owner' });
      } finally {
        await pool.end();
      }
    });
  });

  it('migrate as a member of jht_owner, not a superuser, as docs/database.md sets it up: everything is owned by jht_owner', async () => {
    const name = `jht_owned_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name} OWNER jht_owner`);
    try {
      const password = randomBytes(18).toString('base64url');
      await ensureLoginUser(admin, 'jht_migrate_test', 'jht_owner', password);
      const url = new URL(superuserUrl(admin, name));
      url.username = 'jht_migrate_test';
      url.password = password;
      const result = await runCli(['migrate', '--database-url', url.toString()], '', allowRoot);
      expect(result.status, result.stderr).to.equal(0);
      const pool = scratchPool(superuserUrl(admin, name));
      try {
        const { rows } = await pool.query<{ owner: string; n: number }>(`
          SELECT pg_get_userbyid(c.relowner) AS owner, count(*)::int AS n FROM pg_class c
            JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relkind IN ('r', 'v', 'S')
           GROUP BY 1`);
        expect(rows.map((row) => row.owner)).to.deep.equal(['jht_owner']);
        const { rows: [check] } = await pool.query<{ connect: boolean; temp: boolean }>(`
          SELECT has_database_privilege('public', current_database(), 'CONNECT') AS connect,
                 has_database_privilege('public', current_database(), 'TEMPORARY') AS temp`);
        expect(check).to.deep.equal({ connect: false, temp: false });
      } finally {
        await pool.end();
      }
      // serve refuses those credentials: they are the owner's.
      const serve = await serveRefusal(['--config', configFile], { ...allowRoot, DATABASE_URL: url.toString() });
      expect(serve.status, serve.stderr).to.equal(2);
      expect(serve.stderr).to.match(/is a member of jht_owner, the schema's owner/);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  });

  it('migrate refuses an owner URL off this machine without verified TLS', async () => {
    const result = await runCli(['migrate', '--database-url', 'postgresql://owner:pw@db.bank.example/jht'], '', allowRoot);
    expect(result.status).to.equal(2);
    expect(result.stderr.trim()).to.match(/^error: --database-url: db\.bank\.example is not on this machine: add sslmode=verify-full/);
  });
});
