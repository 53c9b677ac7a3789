import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { openDataDatabase } from '../ledger/data-database.js';
import type { DatabaseHandle } from '../ledger/index.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { fixedKeySource, readConfiguredKeys, type KeyRing } from '../security/keys/index.js';

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
export interface DataSessionRules {
  /**
   * The command writes hashes (an import): it needs a real data key whatever the database holds, since the
   * data it brings makes the database real (the demo marker, src/ledger/deployment.ts).
   */
  writesData?: boolean;
}

export async function withDataSession<T>(options: DataOptions, work: (session: DataSession) => Promise<T>, rules: DataSessionRules = {}): Promise<T> {
  const config = loadConfig({ file: options.config, overrides: { dataDir: options.dataDir } });
  // The default `info` would interleave the ledger's start-up lines with the progress bar: warnings and up only.
  const log = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level, destination: process.stderr });
  // The one place the data commands get their keys (SECURITY.md, "Keys").
  const configured = readConfiguredKeys(config.keys);
  const keys = rules.writesData ? fixedKeySource(configured.ringFor('real')) : configured;
  const database = await openDataDatabase({
    databaseUrl: config.database.url, dataDir: config.database.dataDir, port: config.database.embeddedPort, keys, log,
  });
  try {
    return await work({ database, keys: database.keys, log });
  } finally {
    await database.stop();
  }
}
