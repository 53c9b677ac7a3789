import type { Pool } from 'pg';
import type { Logger } from '../observability/logger.js';
import { DEVELOPMENT_KEY_ID, KeyRing, fixedKeySource, type KeySource } from '../security/keys/index.js';
import { assertDataKeysHeld } from './data-keys.js';
import { seedDemoData } from './demo-seed.js';
import { DEMO_PARTICIPANTS } from './demo-data.js';
import { deploymentUndecided, markDemo, markReal, readDeployment, type DeploymentKind } from './deployment.js';
import { EmbeddedServer } from './embedded-server.js';
import { EmbeddedSupervisor } from './embedded-supervisor.js';
import { DemoSeedRefusedError, EmbeddedServerError } from './errors.js';
import { loadMigrations, migrate } from './migrate.js';
import { createPool, redactConnectionString } from './pool.js';
import type { PoolTarget, PoolTuning } from './pool.js';
import { IMPORTER_ROLE, SWITCH_ROLE, assertRuntimeDatabase } from './roles.js';

export const DEFAULT_EMBEDDED_PORT = 55432;

/** The embedded cluster's own login for the switch, a member of jht_switch (migration 007). */
export const EMBEDDED_SWITCH_USER = 'jht_switch_login';
/** The embedded cluster's own login for the data commands (`import`, `link`), a member of jht_importer. */
export const EMBEDDED_IMPORTER_USER = 'jht_importer_login';

export interface OpenDatabaseOptions {
  /** An external PostgreSQL server. Without it, an embedded cluster is started in `dataDir`. */
  databaseUrl?: string;
  /** Data directory of the embedded cluster (created on first run, reused afterwards). */
  dataDir: string;
  /** Port of the embedded cluster, on 127.0.0.1. Default {@link DEFAULT_EMBEDDED_PORT}. */
  port?: number;
  /**
   * Seed the contract's demo data into an external server too, with `role: 'owner'` only (idempotent; it
   * does not make that server a demo). An embedded cluster is seeded, and marked as the demo, only when it is new and empty; an embedded
   * cluster that holds real data is never seeded (the open fails with {@link DemoSeedRefusedError}).
   */
  seedDemo?: boolean;
  /**
   * The data keys (src/security/keys): the demo data is hashed under the current one, and every key still in
   * use here must be held. A {@link KeySource} is asked for the ring once the deployment is known: for an
   * external database before connecting, for the embedded one after reading its demo marker, so a switch
   * without a real key refuses real data (SECURITY.md, "Key loading").
   */
  keys: KeyRing | KeySource;
  log: Logger;
  pool?: PoolTuning;
  /** Extra embedded-server settings (`-c name=value`); tests turn fsync off. Ignored with `databaseUrl`. */
  serverSettings?: Record<string, string>;
  /** Where the migrations are; default src/ledger/migrations. */
  migrationsDir?: string;
  /**
   * Whose credentials the handle's pool holds (SECURITY.md, "Database roles"):
   * - 'switch' (the default, `serve`): the embedded cluster is migrated and seeded as its superuser, then the
   *   pool logs in as the cluster's own jht_switch member; an external database is not migrated: its schema
   *   must be current and `databaseUrl` must name a member of jht_switch, not a superuser or the owner;
   * - 'owner' (`jht-switch migrate`, the tests' fixtures): the pool keeps the migrating credentials, and an
   *   external database is migrated with them too;
   * - 'importer' (the data commands): as 'switch', with the embedded cluster's jht_importer login instead.
   */
  role?: 'switch' | 'owner' | 'importer';
}

export interface DatabaseHandle {
  pool: Pool;
  /** True when this process started the PostgreSQL server itself. */
  embedded: boolean;
  /** The demo marker (migration 005): 'demo' only for an embedded cluster that holds just the demo data. */
  deployment: DeploymentKind;
  /** How to reach the database, without the password: for logs and `status`. */
  connectionString: string;
  /** Data directory of the embedded cluster; undefined with an external server. */
  dataDir: string | undefined;
  /** The data keys for this database's deployment: the development key only in the embedded demo. */
  keys: KeyRing;
  /** Ends the pool, then stops the embedded server if we started it. Idempotent. */
  stop(): Promise<void>;
  /**
   * Stops the embedded server but keeps the pool: queries fail until {@link resumeServer}. For tests of the
   * ledger going away mid-traffic. Rejects with {@link EmbeddedServerError} when the server is external.
   */
  pauseServer(): Promise<void>;
  /** Starts the embedded server again on the same data directory and port; the pool reconnects by itself. */
  resumeServer(): Promise<void>;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const { log } = options;
  const started = Date.now();
  let server: EmbeddedServer | undefined;
  let pool: Pool;
  let connectionString: string;
  let deployment: DeploymentKind;
  let keys: KeyRing;

  const asOwner = options.role === 'owner';
  const source = keySourceOf(options.keys);
  if (options.databaseUrl) {
    // An external database is never the demo: no real key, no connection.
    keys = source.ringFor('real');
    if (options.seedDemo && !asOwner) {
      throw new DemoSeedRefusedError('the demo data is seeded into an external database by `jht-switch migrate --seed-demo` (owner credentials)');
    }
    pool = createPool({ connectionString: options.databaseUrl }, options.pool ?? {}, log);
    connectionString = redactConnectionString(options.databaseUrl);
  } else {
    server = await EmbeddedServer.open({
      dataDir: options.dataDir,
      port: options.port ?? DEFAULT_EMBEDDED_PORT,
      log,
      ...(options.serverSettings ? { settings: options.serverSettings } : {}),
    });
    // The superuser only migrates and seeds: a couple of connections, ended before the switch serves.
    pool = createPool(server.connection(), asOwner ? options.pool ?? {} : { max: 2 }, log);
    connectionString = describeTarget(server.connection());
  }

  try {
    if (server || asOwner) {
      await migrate(pool, { log, ...(options.migrationsDir ? { dir: options.migrationsDir } : {}) });
      deployment = await decideDeployment(pool, server !== undefined, options);
    } else {
      const migrations = await loadMigrations(options.migrationsDir);
      await assertRuntimeDatabase(pool, migrations.at(-1)?.version ?? 0);
      deployment = await readDeployment(pool);
    }
    keys = source.ringFor(server ? deployment : 'real');
    await assertDataKeysHeld(pool, keys);
    if (server && !asOwner) {
      const login = options.role === 'importer'
        ? await server.ensureLogin(EMBEDDED_IMPORTER_USER, IMPORTER_ROLE)
        : await server.ensureLogin(EMBEDDED_SWITCH_USER, SWITCH_ROLE);
      await pool.end();
      pool = createPool(login, options.pool ?? {}, log);
      connectionString = describeTarget(login);
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    throw error;
  }
  log.info({ connectionString, embedded: server !== undefined, deployment, dataKey: keys.current.id, ms: Date.now() - started }, 'ledger: database ready');
  if (keys.byId(DEVELOPMENT_KEY_ID)) log.warn('using the DEVELOPMENT data key (the embedded demo): card and account hashes are not secret');
  const supervisor = server ? new EmbeddedSupervisor(server, log) : undefined;
  supervisor?.start();
  return makeHandle(pool, server, supervisor, connectionString, deployment, keys);
}

/**
 * The demo marker's rules: an external database is real; a new, empty embedded cluster becomes the demo in
 * the transaction that seeds it; an embedded cluster from before the marker is the demo only if it holds
 * nothing but the demo participants.
 */
export async function decideDeployment(pool: Pool, embedded: boolean, options: OpenDatabaseOptions): Promise<DeploymentKind> {
  const { log } = options;
  const source = keySourceOf(options.keys);
  if (!embedded) {
    await markReal(pool, 'external database');
    if (options.seedDemo) await seedDemoData(pool, source.ringFor('real').current, log);
    return 'real';
  }
  // Only the demo's data is seeded here, under the demo's ring; real data is refused below without a real key.
  const keys = source.ringFor('demo');
  if (await deploymentUndecided(pool)) {
    if (await ledgerIsEmpty(pool)) {
      await seedDemoData(pool, keys.current, log, { asDemo: true });
    } else if (await holdsOnlyDemoParticipants(pool)) {
      await markDemo(pool, 'embedded cluster seeded with the demo data before the marker existed');
    } else {
      await markReal(pool, 'embedded cluster holding data from before the marker');
    }
  }
  const deployment = await readDeployment(pool);
  if (options.seedDemo && deployment !== 'demo') {
    throw new DemoSeedRefusedError('this embedded database holds real data: the demo data is never seeded into it');
  }
  // Idempotent; it hashes the demo's links again after migration 008 dropped those of earlier builds.
  if (deployment === 'demo') await seedDemoData(pool, keys.current, log);
  return deployment;
}

async function holdsOnlyDemoParticipants(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ other: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM participant WHERE kpj_number <> ALL ($1::text[])) AS other',
    [DEMO_PARTICIPANTS.map((p) => p.kpj)],
  );
  return rows[0]?.other === false;
}

function makeHandle(
  pool: Pool, server: EmbeddedServer | undefined, supervisor: EmbeddedSupervisor | undefined,
  connectionString: string, deployment: DeploymentKind, keys: KeyRing,
): DatabaseHandle {
  let stopping: Promise<void> | undefined;
  const embeddedOnly = (): EmbeddedServer => {
    if (!server) throw new EmbeddedServerError('the database server is external: it cannot be paused from here');
    return server;
  };
  return {
    pool,
    embedded: server !== undefined,
    deployment,
    connectionString,
    dataDir: server?.dataDir,
    keys,
    stop() {
      stopping ??= (async () => {
        await supervisor?.stop();
        await pool.end();
        await server?.stop();
      })();
      return stopping;
    },
    async pauseServer() {
      await embeddedOnly().stop();
    },
    async resumeServer() {
      await embeddedOnly().start();
    },
  };
}

/** A ring handed over as is, or a configured source that decides by deployment. */
export function keySourceOf(keys: KeyRing | KeySource): KeySource {
  return keys instanceof KeyRing ? fixedKeySource(keys) : keys;
}

function describeTarget(target: Exclude<PoolTarget, { connectionString: string }>): string {
  return `postgresql://${target.user}@${target.host}:${target.port}/${target.database}`;
}

async function ledgerIsEmpty(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query<{ empty: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM participant) AS empty');
  return rows[0]?.empty ?? true;
}
