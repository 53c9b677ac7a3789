import path from 'node:path';
import type { Logger } from '../observability/logger.js';
import type { KeyRing, KeySource } from '../security/keys/index.js';
import { assertDataKeysHeld } from './data-keys.js';
import { EMBEDDED_IMPORTER_USER, keySourceOf, openDatabase, type DatabaseHandle } from './database.js';
import { readDeployment } from './deployment.js';
import { EMBEDDED_DATABASE, EMBEDDED_USER, ensureEmbeddedLogin, readClusterPassword } from './embedded-server.js';
import { loadMigrations } from './migrate.js';
import { createPool } from './pool.js';
import { runningPostmaster } from './postmaster-pid.js';
import { IMPORTER_ROLE, assertRuntimeDatabase } from './roles.js';

/**
 * The database of the data commands (`import`, `participant show`, `link`), as the jht_importer role:
 * - `databaseUrl` (DATABASE_URL): that server, whose schema must be current (it is not migrated from here);
 * - else the embedded cluster of `dataDir`: attached to when a switch (or another command) is serving it,
 *   so an import runs live beside the switch; started for the command otherwise, as `npm start` would.
 */
export interface DataDatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  port: number;
  /** The configured keys: the ring for the database's deployment is taken once it is known. */
  keys: KeyRing | KeySource;
  log: Logger;
}

export async function openDataDatabase(options: DataDatabaseOptions): Promise<DatabaseHandle> {
  const dataDir = path.resolve(options.dataDir);
  const running = options.databaseUrl ? undefined : await runningPostmaster(dataDir);
  if (!running) {
    return openDatabase({
      ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
      dataDir, port: options.port, keys: options.keys, log: options.log, pool: { max: 2 }, role: 'importer',
    });
  }
  const superuser = {
    host: '127.0.0.1', port: running.port, user: EMBEDDED_USER, password: await readClusterPassword(dataDir), database: EMBEDDED_DATABASE,
  };
  const login = await ensureEmbeddedLogin(dataDir, superuser, EMBEDDED_IMPORTER_USER, IMPORTER_ROLE);
  const pool = createPool(login, { max: 2 }, options.log);
  try {
    await assertRuntimeDatabase(pool, (await loadMigrations()).at(-1)?.version ?? 0);
    const deployment = await readDeployment(pool);
    const keys = keySourceOf(options.keys).ringFor(deployment);
    await assertDataKeysHeld(pool, keys);
    options.log.info({ port: running.port, deployment }, 'ledger: attached to the running embedded cluster');
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => (stopping ??= pool.end());
    const external = (): Promise<void> => Promise.reject(new Error('attached to a cluster this process did not start'));
    return {
      pool, embedded: false, deployment, dataDir, keys,
      connectionString: `postgresql://${login.user}@127.0.0.1:${running.port}/${EMBEDDED_DATABASE}`,
      stop, pauseServer: external, resumeServer: external,
    };
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}
