import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { openDataDatabase } from '../ledger/data-database.js';
import type { DatabaseHandle } from '../ledger/index.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { configuredKeyRing, type KeyRing } from '../security/keys/index.js';

/** The options every data command takes, as `serve` does. */
export interface DataOptions {
  config?: string;
  dataDir?: string;
}

export function dataCommandOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration, JSON or YAML (or JHT_CONFIG): the data key, the data directory')
    .option('--data-dir <dir>', 'embedded PostgreSQL data directory (default .data/postgres); DATABASE_URL for an external one');
}

export interface DataSession {
  database: DatabaseHandle;
  keys: KeyRing;
  log: Logger;
}

/**
 * Opens the data commands' database (src/ledger/data-database.ts) with the configured key ring, runs `work`
 * and closes it. Logs go to stderr: stdout is the command's answer.
 */
export async function withDataSession<T>(options: DataOptions, work: (session: DataSession) => Promise<T>): Promise<T> {
  const config = loadConfig({ file: options.config, overrides: { dataDir: options.dataDir } });
  // The default `info` would interleave the ledger's start-up lines with the progress bar: warnings and up only.
  const log = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level, destination: process.stderr });
  // The one place the data commands get their keys (SECURITY.md, "Keys").
  const keys = configuredKeyRing(config.cardKey, log);
  const database = await openDataDatabase({
    databaseUrl: config.database.url, dataDir: config.database.dataDir, port: config.database.embeddedPort, keys, log,
  });
  try {
    return await work({ database, keys, log });
  } finally {
    await database.stop();
  }
}
