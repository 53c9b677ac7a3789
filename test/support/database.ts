import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Pool } from 'pg';
import { openDatabase } from '../../src/ledger/database.js';
import { migrate } from '../../src/ledger/migrate.js';
import type { DatabaseHandle } from '../../src/ledger/database.js';
import { DATA_KEY_FILE_ENV, DataKey, KeyRing } from '../../src/security/keys/index.js';
import { ledgerTypes } from '../../src/ledger/pool.js';
import type { PoolTuning } from '../../src/ledger/pool.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import { ensureLoginUser, type DutyRole } from '../../src/ledger/roles.js';
import { keyDirectory, writeKeyFile } from './keys.js';

/**
 * One PostgreSQL for the whole mocha run, shared by every test file that needs a database:
 * - by default an embedded cluster in a fresh directory under os.tmpdir(), on a free loopback port,
 *   seeded with the contract's demo data, removed after the run (see hooks.ts);
 * - with DATABASE_URL set, that server: migrated and demo-seeded (idempotent), never stopped or cleaned.
 *
 * The demo data is hashed under {@link TEST_KEYS}, a real (random, not public) data key made for the run, so
 * a switch may reach the shared database by DATABASE_URL as production would: its key file is named in this
 * process's JHT_DATA_KEY_FILE, which every `jht-switch` child inherits. A test of key refusal removes it.
 * Set TEST_DB_LOG=debug (or info) to see the ledger's and postgres' logs.
 *
 * The ledger going away mid-test (tests of response 91): `await db.pauseServer()` stops the embedded
 * server, `await db.resumeServer()` starts it again on the same port; pools reconnect by themselves.
 * Both reject when DATABASE_URL is set: check `db.embedded` and skip (`this.skip()`) otherwise.
 */

const TEST_KEY_MATERIAL = randomBytes(32);
/** The key file of {@link TEST_KEYS}; also in process.env.JHT_DATA_KEY_FILE for the switches tests start. */
export const TEST_KEY_FILE = writeKeyFile(keyDirectory(), 'data-key', TEST_KEY_MATERIAL);
process.env[DATA_KEY_FILE_ENV] = TEST_KEY_FILE;

export const TEST_KEYS: KeyRing = new KeyRing({ current: new DataKey(TEST_KEY_MATERIAL) });

/**
 * The unit suite's cluster is thrown away after the run: durability buys nothing there and costs seconds on a
 * 2-core runner. The integration suite (`npm run test:integration`, which sets JHT_TEST_DB_DURABLE=1) runs
 * with PostgreSQL's production settings, fsync and synchronous commit on, so that a durability test cannot
 * pass vacuously.
 */
const THROW_AWAY_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } as const;

export function testClusterIsDurable(): boolean {
  return process.env.JHT_TEST_DB_DURABLE === '1';
}

const TEST_DIR_PREFIX = 'jht-switch-test-';
/** A test directory this old with no live server was left by a run that was killed: remove it. */
const ABANDONED_AFTER_MS = 30 * 60_000;

let opening: Promise<DatabaseHandle> | undefined;
let tempDir: string | undefined;

export function getTestDatabase(): Promise<DatabaseHandle> {
  opening ??= open();
  return opening;
}

/** Stops the shared database if this run started it, and deletes its files. Called by the root hook. */
export async function stopTestDatabase(): Promise<void> {
  if (!opening) return;
  const handle = await opening.catch(() => undefined);
  opening = undefined;
  await handle?.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

/**
 * A separate pool on the shared database (same types as the switch's), for tests that need to count or
 * starve connections without disturbing the shared pool. The caller ends it.
 */
export async function createTestPool(tuning: PoolTuning = {}): Promise<Pool> {
  const handle = await getTestDatabase();
  const { options } = handle.pool;
  const pool = new pg.Pool({
    ...(options.connectionString ? { connectionString: options.connectionString } : {
      host: options.host, port: options.port, user: options.user,
      password: options.password, database: options.database,
    }),
    types: ledgerTypes(),
    max: tuning.max ?? 4,
    connectionTimeoutMillis: tuning.connectionTimeoutMillis ?? 2000,
    statement_timeout: tuning.statementTimeoutMs ?? 5000,
  });
  // Without a listener, an idle connection closed by the server (pauseServer) is an uncaught 'error'.
  pool.on('error', () => undefined);
  return pool;
}

async function open(): Promise<DatabaseHandle> {
  const level = process.env.TEST_DB_LOG;
  const log = level ? createLogger({ level, destination: process.stderr }) : silentLogger();
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    return openDatabase({ databaseUrl, dataDir: '', seedDemo: true, keys: TEST_KEYS, log, role: 'owner' });
  }
  await removeAbandonedTestDirs();
  tempDir = await mkdtemp(path.join(os.tmpdir(), TEST_DIR_PREFIX));
  // mkdtemp makes the directory 0700; as root, postgres runs as another user and must be able to enter it.
  await chmod(tempDir, 0o755);
  return openDatabase({
    dataDir: path.join(tempDir, 'pg'),
    port: await freePort(),
    seedDemo: true,
    keys: TEST_KEYS,
    log,
    // The fixtures write what no run-time role may (participants, postings): see connectAsRole for those.
    role: 'owner',
    ...(testClusterIsDurable() ? {} : { serverSettings: THROW_AWAY_SETTINGS }),
  });
}

/**
 * Runs killed with SIGKILL leave their directory behind (SIGTERM is handled in hooks.ts). Only directories
 * older than {@link ABANDONED_AFTER_MS} whose postgres is not running are removed: a concurrent run's
 * directory is young, or has a live server. A live orphaned server is left alone.
 */
async function removeAbandonedTestDirs(): Promise<void> {
  const root = os.tmpdir();
  for (const name of await readdir(root)) {
    if (!name.startsWith(TEST_DIR_PREFIX)) continue;
    const dir = path.join(root, name);
    try {
      if (Date.now() - (await stat(dir)).mtimeMs < ABANDONED_AFTER_MS) continue;
      if (await hasLiveServer(path.join(dir, 'pg'))) continue;
      await rm(dir, { recursive: true, force: true });
    } catch {
      // raced with another run's cleanup: nothing to do
    }
  }
}

async function hasLiveServer(dataDir: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
  } catch {
    return false;
  }
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

const roleUsers = new Map<string, Promise<{ user: string; password: string }>>();

/**
 * A pool that logs in as a member of one duty role of migration 007 (jht_switch, jht_importer, jht_support,
 * jht_owner): a login user `<role>_test` is created on the shared database the first time, with a random
 * password. The caller ends the pool.
 */
export async function connectAsRole(role: DutyRole, tuning: PoolTuning = {}): Promise<Pool> {
  const login = await roleLogin(role);
  const handle = await getTestDatabase();
  const { options } = handle.pool;
  const target = options.connectionString ? new URL(options.connectionString) : undefined;
  const pool = new pg.Pool({
    host: target ? target.hostname : options.host,
    port: target ? Number(target.port || 5432) : options.port,
    database: target ? target.pathname.slice(1) : options.database,
    user: login.user,
    password: login.password,
    types: ledgerTypes(),
    max: tuning.max ?? 2,
    connectionTimeoutMillis: tuning.connectionTimeoutMillis ?? 2000,
    statement_timeout: tuning.statementTimeoutMs ?? 5000,
  });
  pool.on('error', () => undefined);
  return pool;
}

/** A connection string for the role's test login (for a switch started as its own process). */
export async function roleDatabaseUrl(role: DutyRole): Promise<string> {
  const login = await roleLogin(role);
  const { options } = (await getTestDatabase()).pool;
  const url = new URL(options.connectionString ?? `postgresql://${options.host}:${options.port}/${options.database}`);
  url.username = login.user;
  url.password = login.password;
  return url.toString();
}

function roleLogin(role: DutyRole): Promise<{ user: string; password: string }> {
  let login = roleUsers.get(role);
  if (!login) {
    login = (async () => {
      const user = `${role}_test`;
      const password = randomBytes(24).toString('base64url');
      await ensureLoginUser((await getTestDatabase()).pool, user, role, password);
      return { user, password };
    })();
    roleUsers.set(role, login);
  }
  return login;
}
/** A fresh, migrated database on the shared test server, as a new cluster's would be. */
export async function scratchDatabase(admin: Pool): Promise<{ pool: Pool; drop(): Promise<void> }> {
  const name = `jht_deploy_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const { options } = admin;
  const pool = new pg.Pool({
    host: options.host, port: options.port, user: options.user, password: options.password, database: name, max: 2,
  });
  // DROP DATABASE ... WITH (FORCE) ends any connection still open: without a listener, an uncaught 'error'.
  pool.on('error', () => undefined);
  await migrate(pool, { log: silentLogger() });
  return {
    pool,
    async drop() {
      await pool.end();
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    },
  };
}

