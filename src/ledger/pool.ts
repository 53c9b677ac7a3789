import pg from 'pg';
import type { Pool, PoolConfig } from 'pg';
import type { Logger } from '../observability/logger.js';
import { describeError } from './errors.js';

const INT8_OID = 20;
const DATE_OID = 1082;

export interface PoolTuning {
  /** Connections in the pool. Default 10. */
  max?: number;
  /** How long to wait for a connection (a stopped or hung server fails fast). Default 2000 ms. */
  connectionTimeoutMillis?: number;
  /**
   * Server-side backstop on any statement of this pool; migrations lift it for themselves. The ledger
   * budget is enforced client side (LedgerReader): keep this well above it. Default 30000 ms.
   */
  statementTimeoutMs?: number;
  /** Idle connections are closed after this long. Default 30000 ms. */
  idleTimeoutMillis?: number;
}

export type PoolTarget =
  | { connectionString: string }
  | { host: string; port: number; user: string; password: string; database: string };

/**
 * Type parsers for this pool only, so no other pg user in the process is affected:
 * - int8 as bigint: sen amounts exceed 2^53 long before anyone notices a float rounding them;
 * - date as its 'YYYY-MM-DD' text: pg's default turns a date into a local-midnight Date, which shifts a day
 *   when the process's time zone is west of the server's.
 */
export function ledgerTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, (value: string) => BigInt(value));
  types.setTypeParser(DATE_OID, (value: string) => value);
  return types;
}

export function createPool(target: PoolTarget, tuning: PoolTuning, log: Logger): Pool {
  const config: PoolConfig = {
    ...target,
    types: ledgerTypes(),
    application_name: 'jht-switch',
    max: tuning.max ?? 10,
    connectionTimeoutMillis: tuning.connectionTimeoutMillis ?? 2000,
    idleTimeoutMillis: tuning.idleTimeoutMillis ?? 30_000,
    statement_timeout: tuning.statementTimeoutMs ?? 30_000,
    // Detects a server that vanished without closing the socket (power loss, network partition).
    keepAlive: true,
  };
  const pool = new pg.Pool(config);
  // An idle connection dropped by the server (restart, admin kill) must not crash the process:
  // pg-pool discards it and the next query opens a new one.
  pool.on('error', (error) => {
    // While the pool ends, the server may close connections pg-pool is still closing: expected, not news.
    const level = pool.ending ? 'debug' : 'warn';
    log[level]({ reason: describeError(error) }, 'ledger: idle database connection lost');
  });
  return pool;
}

/** Query parameters that carry a secret: `?password=` works as well as the user-info part, and `sslpassword`. */
const SECRET_PARAMETER = /pass|secret|token/i;
const REDACTED = '***';

/**
 * The connection string with every password removed (the user-info part and any `password`-like query
 * parameter), safe to log and to show in `status`. Not a URL: every `name=value` pair whose name says
 * password is cut, quoted or not.
 */
export function redactConnectionString(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return connectionString.replace(/(\w*(?:pass|secret|token)\w*)\s*=\s*(?:'(?:[^'\\]|\\.)*'|\S+)/gi, `$1=${REDACTED}`);
  }
  url.password = '';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAMETER.test(name)) url.searchParams.set(name, REDACTED);
  }
  return url.toString();
}
