/**
 * Typed errors of the ledger area. Callers switch on `code` (and `reason`), never on messages.
 * No message built here ever contains a PAN or an account number: the ledger only sees their HMACs.
 */

export type LedgerUnavailableReason = 'timeout' | 'breaker-open' | 'database-error';

/** The ledger could not answer within its budget: the switch answers 91. */
export class LedgerUnavailableError extends Error {
  readonly code = 'LEDGER_UNAVAILABLE';
  readonly reason: LedgerUnavailableReason;

  constructor(reason: LedgerUnavailableReason, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `ledger unavailable (${reason}): ${detail}` : `ledger unavailable (${reason})`, options);
    this.name = 'LedgerUnavailableError';
    this.reason = reason;
  }
}

/** The embedded PostgreSQL server could not be initialised, started or stopped. */
export class EmbeddedServerError extends Error {
  readonly code = 'LEDGER_EMBEDDED_SERVER';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedServerError';
  }
}

/** A migration file is malformed, or applying it failed (the migration's transaction was rolled back). */
export class MigrationError extends Error {
  readonly code = 'LEDGER_MIGRATION_FAILED';
  readonly version: number | undefined;

  constructor(message: string, version?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
    this.version = version;
  }
}

/**
 * The database holds hashes made under a data key this switch does not hold (or under no recorded key): it
 * would answer 14 to every card, so it refuses to start. Names key ids only, never key material.
 */
export class DataKeyNotHeldError extends Error {
  readonly code = 'LEDGER_DATA_KEY_NOT_HELD';

  constructor(message: string) {
    super(message);
    this.name = 'DataKeyNotHeldError';
  }
}

/** `jht-switch keys retire`: the key is not registered here, or links still name it (names key ids only). */
export class DataKeyRetireError extends Error {
  constructor(readonly code: 'LEDGER_DATA_KEY_UNKNOWN' | 'LEDGER_DATA_KEY_IN_USE', message: string) {
    super(message);
    this.name = 'DataKeyRetireError';
  }
}

/** The demo data was asked for on a database that holds real data (see src/ledger/deployment.ts). */
export class DemoSeedRefusedError extends Error {
  readonly code = 'LEDGER_DEMO_SEED_REFUSED';

  constructor(message: string) {
    super(message);
    this.name = 'DemoSeedRefusedError';
  }
}

/** Short, card-data-free description of an unknown thrown value, for logs and error details. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/** The database's schema is older than this code: `serve` refuses to start until `jht-switch migrate` ran. */
export class SchemaVersionError extends Error {
  readonly code = 'LEDGER_SCHEMA_OUTDATED';

  constructor(readonly current: number, readonly required: number) {
    super(`the database schema is at version ${current}, this switch needs ${required}: ` +
      'run `jht-switch migrate` with the owner\'s credentials first (docs/database.md)');
    this.name = 'SchemaVersionError';
  }
}

/** The switch was given database credentials it must not hold at run time (a superuser, the owner). */
export class DatabaseRoleError extends Error {
  readonly code = 'LEDGER_ROLE_REFUSED';

  constructor(reason: string) {
    super(`${reason}: serve connects as a member of jht_switch only (docs/database.md)`);
    this.name = 'DatabaseRoleError';
  }
}
