import type { Command } from 'commander';
import type { Pool } from 'pg';
import { maintainJournal } from '../journal/index.js';
import { SchemaVersionError, createPool, loadMigrations, openDatabase } from '../ledger/index.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { readConfiguredKeys } from '../security/keys/index.js';
import { CliError } from './cli-error.js';
import { ownerConnectionOptions, resolveOwnerConnection, type OwnerCliOptions } from './owner-options.js';
import { checkRootFor } from './root-guard.js';

interface MaintainCliOptions extends OwnerCliOptions {
  keepDetached?: boolean;
}

/**
 * `jht-switch journal maintain`: the journal's partitions ahead, and its retention (`journal.retentionMonths`),
 * with the schema owner's credentials, like `migrate` (docs/deployment.md runs it from a daily timer). Unlike
 * `migrate` it applies no migration to an external database: an older schema is refused.
 */
export function registerJournalCommands(program: Command): void {
  const maintain = program
    .command('journal')
    .description("the transaction journal's partitions")
    .command('maintain')
    .description('create the next months\' partitions; detach and drop those older than journal.retentionMonths');
  ownerConnectionOptions(maintain, 'journal.retentionMonths, the data directory')
    .option('--keep-detached', 'detach expired partitions but keep them as tables, to archive them; a later run drops them')
    .action(async (options: MaintainCliOptions) => {
      const { config, url, root } = resolveOwnerConnection(options, 'journal maintain');
      const log = createLogger({ level: config.log.level, destination: process.stderr });
      let pool: Pool;
      let close: () => Promise<void>;
      if (url) {
        pool = createPool({ connectionString: url }, { max: 1 }, log);
        close = () => pool.end();
        await assertCurrentSchema(pool).catch(async (error: unknown) => {
          await close();
          throw error;
        });
      } else {
        const database = await openDatabase({
          dataDir: config.database.dataDir, port: config.database.embeddedPort, log,
          keys: readConfiguredKeys(config.keys), pool: { max: 1 }, role: 'owner',
        });
        checkRootFor(database, root, 'journal maintain', log);
        ({ pool } = database);
        close = () => database.stop();
      }
      try {
        await report(pool, config.journal.retentionMonths, options.keepDetached === true, log);
      } finally {
        await close();
      }
    });
}

async function assertCurrentSchema(pool: Pool): Promise<void> {
  const latest = (await loadMigrations()).at(-1)?.version ?? 0;
  const { rows: [row] } = await pool.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  if ((row?.version ?? 0) < latest) throw new SchemaVersionError(row?.version ?? 0, latest);
}

async function report(pool: Pool, retentionMonths: number, keepDetached: boolean, log: Logger): Promise<void> {
  const result = await maintainJournal(pool, { retentionMonths, keepDetached, log }).catch((error: unknown) => {
    // 42501: the credentials given are not the owner's (the switch's, say): fix the credentials, not the switch.
    if ((error as { code?: unknown }).code === '42501') {
      throw new CliError("this database user may not maintain the journal's partitions: use the schema owner's credentials (a member of jht_owner)");
    }
    throw error;
  });
  const day = (date: Date): string => date.toISOString().slice(0, 10);
  process.stdout.write(
    `journal: partitions up to ${day(result.coveredUntil)}; retention ${retentionMonths} months (rows before ${day(result.cutoff)} may go); ` +
    `detached ${result.detached.length ? result.detached.join(', ') : 'none'}; dropped ${result.dropped.length ? result.dropped.join(', ') : 'none'}\n`);
}
