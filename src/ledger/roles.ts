import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { DatabaseRoleError, SchemaVersionError } from './errors.js';

/**
 * The roles by duty of migration 007 (SECURITY.md, "Database roles"). They are NOLOGIN groups; a login user
 * is a member of exactly one. In production the DBA creates the login users (docs/database.md); the embedded
 * cluster creates its own switch login (EmbeddedServer.ensureLogin).
 */
export const OWNER_ROLE = 'jht_owner';
export const SWITCH_ROLE = 'jht_switch';
export const IMPORTER_ROLE = 'jht_importer';
export const SUPPORT_ROLE = 'jht_support';
export const DUTY_ROLES = [OWNER_ROLE, SWITCH_ROLE, IMPORTER_ROLE, SUPPORT_ROLE] as const;
export type DutyRole = (typeof DUTY_ROLES)[number];

type Queryable = Pick<Pool | PoolClient, 'query'>;

/**
 * Creates (or updates) the login `user` as a member of `group` only, with `password`. CREATE/ALTER ROLE take
 * no parameters, so the password would travel in the statement's text (pg_stat_activity, a server log with
 * log_statement=ddl): only its SCRAM-SHA-256 verifier is sent, which PostgreSQL stores as given.
 */
export async function ensureLoginUser(db: Queryable, user: string, group: DutyRole, password: string): Promise<void> {
  const name = quoteIdentifier(user);
  const secret = quoteLiteral(scramVerifier(password));
  const { rowCount } = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
  await db.query(rowCount
    ? `ALTER ROLE ${name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${secret}`
    : `CREATE ROLE ${name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${secret}`);
  await db.query(`GRANT ${quoteIdentifier(group)} TO ${name}`);
}

/**
 * What `serve` checks before it runs against a database it does not migrate: the schema is at least the
 * code's latest migration, and the session is neither a superuser nor the schema's owner (the switch holds
 * no owner credentials in production). Throws {@link SchemaVersionError} or {@link DatabaseRoleError}.
 */
export async function assertRuntimeDatabase(db: Queryable, latestVersion: number): Promise<void> {
  let row: { current: number | null; user: string; superuser: boolean; owner: boolean } | undefined;
  try {
    ({ rows: [row] } = await db.query<NonNullable<typeof row>>(`
      SELECT (SELECT max(version) FROM schema_migrations) AS current,
             current_user AS user,
             (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
             CASE WHEN to_regrole('${OWNER_ROLE}') IS NULL THEN false
                  ELSE pg_has_role(current_user, '${OWNER_ROLE}', 'MEMBER') END AS owner`));
  } catch (error) {
    // 42P01: no schema_migrations table, a database never migrated.
    if ((error as { code?: unknown }).code === '42P01') throw new SchemaVersionError(0, latestVersion);
    throw error;
  }
  const current = row?.current ?? 0;
  if (current < latestVersion) throw new SchemaVersionError(current, latestVersion);
  if (row?.superuser) throw new DatabaseRoleError(`the database user ${row.user} is a superuser`);
  if (row?.owner) throw new DatabaseRoleError(`the database user ${row.user} is a member of ${OWNER_ROLE}, the schema's owner`);
}

const SCRAM_ITERATIONS = 4096; // PostgreSQL's default (scram_iterations)

/**
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (RFC 5802, 7677), as PostgreSQL stores it.
 * Passwords here are random base64url text, for which SASLprep changes nothing.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16)): string {
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
