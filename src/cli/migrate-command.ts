import type { Command } from 'commander';
import { databaseUrlProblem } from '../config/database-url.js';
import { loadConfig } from '../config/load-config.js';
import { openDatabase } from '../ledger/index.js';
import { readConfiguredKeys } from '../security/keys/index.js';
import { createLogger } from '../observability/logger.js';
import { CliError } from './cli-error.js';
import { checkRootFor, refuseRoot, rootPolicy } from './root-guard.js';

interface MigrateOptions {
  databaseUrl?: string;
  config?: string;
  dataDir?: string;
  seedDemo?: boolean;
  allowRoot?: boolean;
}

/**
 * `jht-switch migrate`: the only command that holds the schema owner's credentials (a member of jht_owner,
 * docs/database.md). `serve` on an external database never migrates: it checks the schema's version and
 * refuses an older one. Without a URL it migrates the embedded cluster of --data-dir, as `serve` would.
 */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("apply the schema migrations with the schema owner's credentials")
    .option('--database-url <url>', "the owner's connection (or JHT_MIGRATE_DATABASE_URL); default: the embedded cluster")
    .option('-c, --config <file>', 'configuration, JSON or YAML (or JHT_CONFIG): where the data key is, the data directory')
    .option('--data-dir <dir>', 'embedded PostgreSQL data directory (default .data/postgres)')
    .option('--seed-demo', 'also load the demo data (hashed under the data key; an external database needs a real one)')
    .option('--allow-root', 'run as root on a real database (containers, CI; or JHT_ALLOW_ROOT=1)')
    .action(async (options: MigrateOptions) => {
      const config = loadConfig({ file: options.config, overrides: { dataDir: options.dataDir } });
      const url = options.databaseUrl ?? process.env.JHT_MIGRATE_DATABASE_URL;
      const root = rootPolicy(options.allowRoot);
      if (url) {
        const problem = databaseUrlProblem(url);
        if (problem) throw new CliError(`--database-url: ${problem}`);
        refuseRoot(root, 'migrate');
      }
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
