import type { Command } from 'commander';
import { openDatabase } from '../ledger/index.js';
import { readConfiguredKeys } from '../security/keys/index.js';
import { createLogger } from '../observability/logger.js';
import { ownerConnectionOptions, resolveOwnerConnection, type OwnerCliOptions } from './owner-options.js';
import { checkRootFor } from './root-guard.js';

interface MigrateOptions extends OwnerCliOptions {
  seedDemo?: boolean;
}

/**
 * `jht-switch migrate`: the only command that holds the schema owner's credentials (a member of jht_owner,
 * docs/database.md). `serve` on an external database never migrates: it checks the schema's version and
 * refuses an older one. Without a URL it migrates the embedded cluster of --data-dir, as `serve` would.
 */
export function registerMigrateCommand(program: Command): void {
  const migrate = program
    .command('migrate')
    .description("apply the schema migrations with the schema owner's credentials");
  ownerConnectionOptions(migrate, 'where the data key is, the data directory')
    .option('--seed-demo', 'also load the demo data (hashed under the data key; an external database needs a real one)')
    .action(async (options: MigrateOptions) => {
      const { config, url, root } = resolveOwnerConnection(options, 'migrate');
      const log = createLogger({ level: config.log.level, destination: process.stderr });
      const database = await openDatabase({
        ...(url ? { databaseUrl: url } : {}),
        dataDir: config.database.dataDir,
        port: config.database.embeddedPort,
        ...(options.seedDemo ? { seedDemo: true } : {}),
        keys: readConfiguredKeys(config.keys),
        log,
        pool: { max: 2 },
        role: 'owner',
      });
      try {
        checkRootFor(database, root, 'migrate', log);
        const { rows } = await database.pool.query<{ version: number }>('SELECT max(version) AS version FROM schema_migrations');
        process.stdout.write(`schema at version ${rows[0]?.version ?? 0}: ${database.connectionString} (${database.deployment})\n`);
      } finally {
        await database.stop();
      }
    });
}
