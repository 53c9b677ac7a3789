import type { Command } from 'commander';
import { databaseUrlProblem } from '../config/database-url.js';
import { loadConfig } from '../config/load-config.js';
import type { SwitchConfig } from '../config/schema.js';
import { CliError } from './cli-error.js';
import { refuseRoot, rootPolicy, type RootPolicy } from './root-guard.js';

/** The options of the commands that hold the schema owner's credentials (`migrate`, `journal maintain`). */
export interface OwnerCliOptions {
  databaseUrl?: string;
  config?: string;
  dataDir?: string;
  allowRoot?: boolean;
}

/** Declares the owner's connection options; `configHelp` says what the command reads from the configuration. */
export function ownerConnectionOptions(command: Command, configHelp: string): Command {
  return command
    .option('--database-url <url>', "the owner's connection (or JHT_MIGRATE_DATABASE_URL); default: the embedded cluster")
    .option('-c, --config <file>', `configuration, JSON or YAML (or JHT_CONFIG): ${configHelp}`)
    .option('--data-dir <dir>', 'embedded PostgreSQL data directory (default .data/postgres)')
    .option('--allow-root', 'run as root on a real database (containers, CI; or JHT_ALLOW_ROOT=1)');
}

/**
 * The configuration, the owner's URL (checked; undefined: the embedded cluster) and the root policy. A URL
 * is an external database: root is refused there at once, before anything connects.
 */
export function resolveOwnerConnection(options: OwnerCliOptions, command: string): { config: SwitchConfig; url: string | undefined; root: RootPolicy } {
  const config = loadConfig({ file: options.config, overrides: { dataDir: options.dataDir } });
  const url = options.databaseUrl ?? process.env.JHT_MIGRATE_DATABASE_URL;
  const root = rootPolicy(options.allowRoot);
  if (url) {
    const problem = databaseUrlProblem(url);
    if (problem) throw new CliError(`--database-url: ${problem}`);
    refuseRoot(root, command);
  }
  return { config, url, root };
}
