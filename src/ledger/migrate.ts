import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../observability/logger.js';
import { MigrationError, describeError } from './errors.js';
import { OWNER_ROLE } from './roles.js';

/**
 * Versioned SQL migrations: every `NNN_name.sql` in the migrations folder, applied in version order, each in
 * its own transaction, recorded in schema_migrations. Other areas add their own files there (002_journal.sql
 * ...): the loader knows no file by name. A migration file must not contain BEGIN/COMMIT, nor statements
 * that cannot run in a transaction (CREATE INDEX CONCURRENTLY).
 *
 * Two switch instances starting together serialise on a session advisory lock; the second finds everything
 * applied and does nothing.
 */

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Arbitrary, fixed key of the advisory lock ("8583" + "JHT" on a phone keypad). */
const MIGRATION_LOCK_KEY = 8583_548;

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** SHA-256 of the file, recorded to notice a migration edited after it was applied. */
  checksum: string;
}

export interface MigrationResult {
  applied: Array<{ version: number; name: string }>;
  /** Highest version recorded after the run. */
  current: number;
}

export async function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  const seen = new Map<number, string>();
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError(`migration file name must look like 001_name.sql: ${file}`);
    const version = Number(match[1]);
    const other = seen.get(version);
    if (other) throw new MigrationError(`two migrations share version ${version}: ${other} and ${file}`, version);
    seen.set(version, file);
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version, name: match[2] ?? file, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

export async function migrate(pool: Pool, options: { log: Logger; dir?: string }): Promise<MigrationResult> {
  const migrations = await loadMigrations(options.dir);
  const client = await pool.connect();
  let clean = false;
  try {
    // The pool's statement_timeout would cut a long migration or the wait for the lock.
    await client.query('SET statement_timeout = 0');
    await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    const result = await applyPending(client, migrations, options.log);
    await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    await client.query('RESET ROLE');
    await client.query('RESET statement_timeout');
    clean = true;
    return result;
  } finally {
    // After a failure the session may still hold the lock or a timeout setting: destroying the connection
    // releases both, where handing it back to the pool would not.
    client.release(!clean);
  }
}

async function applyPending(client: PoolClient, migrations: Migration[], log: Logger): Promise<MigrationResult> {
  await becomeOwnerIfPossible(client);
  await client.query(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer     PRIMARY KEY,
      name       text        NOT NULL,
      checksum   text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  const { rows } = await client.query<{ version: number; checksum: string }>(
    'SELECT version, checksum FROM schema_migrations',
  );
  const recorded = new Map(rows.map((row) => [row.version, row.checksum]));
  const applied: MigrationResult['applied'] = [];

  for (const migration of migrations) {
    const checksum = recorded.get(migration.version);
    if (checksum !== undefined) {
      if (checksum !== migration.checksum) {
        log.warn({ version: migration.version, name: migration.name },
          'ledger: migration file changed after it was applied; the change is NOT applied, add a new migration');
      }
      continue;
    }
    await applyOne(client, migration);
    applied.push({ version: migration.version, name: migration.name });
    log.info({ version: migration.version, name: migration.name }, 'ledger: migration applied');
  }

  const versions = [...recorded.keys(), ...applied.map((m) => m.version)];
  return { applied, current: versions.length ? Math.max(...versions) : 0 };
}

/**
 * Objects belong to jht_owner (migration 007), whoever runs the migrations: once that role exists, may
 * create in the schema and the session may become it, each migration runs as it. Before that (the first run
 * of 001-007 on a new embedded cluster) they run as the session's user, and 007 hands everything over.
 * CASE, not AND: pg_has_role fails on a role that does not exist, and AND may evaluate it first.
 */
const CAN_BECOME_OWNER = `
SELECT CASE WHEN to_regrole('${OWNER_ROLE}') IS NULL THEN false
            ELSE pg_has_role(session_user, '${OWNER_ROLE}', 'MEMBER')
                 AND has_schema_privilege('${OWNER_ROLE}', 'public', 'CREATE') END AS become`;

async function becomeOwnerIfPossible(client: PoolClient): Promise<void> {
  const { rows } = await client.query<{ become: boolean }>(CAN_BECOME_OWNER);
  await client.query(rows[0]?.become ? `SET ROLE ${OWNER_ROLE}` : 'RESET ROLE');
}

async function applyOne(client: PoolClient, migration: Migration): Promise<void> {
  await becomeOwnerIfPossible(client);
  await client.query('BEGIN');
  try {
    // Simple-query protocol (no parameters): the whole file runs as one multi-statement batch.
    await client.query(migration.sql);
    await client.query(
      'INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
      [migration.version, migration.name, migration.checksum],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError(
      `migration ${migration.version}_${migration.name} failed: ${describeError(error)}`,
      migration.version,
      { cause: error },
    );
  }
}
