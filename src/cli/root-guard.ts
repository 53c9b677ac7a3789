import type { DatabaseHandle } from '../ledger/index.js';
import type { Logger } from '../observability/logger.js';
import { CliError } from './cli-error.js';

/**
 * The switch, and every command that opens a real database, do not run as root: a compromise of the
 * process would be a compromise of the host, and the cluster it starts would run as `postgres`, sharing
 * nothing with the service's own user. A service runs it as its own user (docs/database.md). Containers and
 * CI run everything as root: they say so with --allow-root or JHT_ALLOW_ROOT=1. The embedded demo
 * (`npm start` on a fresh machine) only warns.
 */

export interface RootPolicy {
  asRoot: boolean;
  allowed: boolean;
}

export function rootPolicy(allowRootFlag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): RootPolicy {
  return { asRoot: process.getuid?.() === 0, allowed: allowRootFlag === true || env.JHT_ALLOW_ROOT === '1' };
}

/** Refuses root before a real database is touched; `what` names the command. */
export function refuseRoot(policy: RootPolicy, what: string): void {
  if (policy.asRoot && !policy.allowed) {
    throw new CliError(`${what} refuses to run as root outside the embedded demo: run it as its own user, ` +
      'or pass --allow-root (JHT_ALLOW_ROOT=1) in a container or CI');
  }
}

/** After the database opened: the demo as root warns; anything real as root is refused (unless allowed). */
export function checkRootFor(database: DatabaseHandle, policy: RootPolicy, what: string, log: Logger): void {
  if (!policy.asRoot) return;
  if (database.deployment === 'demo' && database.embedded) {
    log.warn('running as root: acceptable for the embedded demo only; a service runs the switch as its own user');
    return;
  }
  refuseRoot(policy, what);
  log.warn('running as root (--allow-root / JHT_ALLOW_ROOT=1)');
}
