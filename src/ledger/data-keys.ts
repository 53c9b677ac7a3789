import type { Pool, PoolClient } from 'pg';
import type { DataKey, KeyRing } from '../security/keys/index.js';
import { DataKeyNotHeldError, DataKeyRetireError } from './errors.js';
import { claimedSudoUid, type Operator } from './operator.js';

/**
 * The database side of the key model (migration 008): which data keys have written hashes here. Every writer
 * of hashes registers its key first, in the same transaction; every process that reads hashes checks at
 * start that it holds each key still in use.
 */

/**
 * Records `key` (id and check value only) as one that writes hashes here. Idempotent; a retired key that
 * writes again is in use again, so its retirement is undone and switches must hold it once more.
 */
export async function registerDataKey(client: Pool | PoolClient, key: DataKey): Promise<void> {
  // Two statements, not ON CONFLICT DO UPDATE: that one locks the key's row even when it changes nothing, and
  // two imports applied side by side (a links file and a postings file, runImports) would wait on each other.
  await client.query('INSERT INTO data_key (key_id, check_value) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING',
    [key.id, key.checkValue('instrument')]);
  await client.query('UPDATE data_key SET retired_at = NULL WHERE key_id = $1 AND retired_at IS NOT NULL', [key.id]);
}

/**
 * Moves the link of `number` from the previous key's hash to the current key's, in place (the importer's role,
 * migration 013), during a rotation window: what importing a bank's link file again does for a link that
 * exists. Returns false when there is nothing to move (no link under the previous key, or the number already
 * linked under the current one). The caller registers the current key first (registerDataKey).
 */
export async function relinkUnderCurrentKey(client: Pool | PoolClient, keys: KeyRing, kind: 'CARD' | 'ACCOUNT', number: string): Promise<boolean> {
  if (!keys.previous) return false;
  const { rowCount } = await client.query(
    `UPDATE instrument_link SET instrument_hash = $3, key_id = $4
      WHERE kind = $1 AND instrument_hash = $2
        AND NOT EXISTS (SELECT 1 FROM instrument_link WHERE kind = $1 AND instrument_hash = $3)`,
    [kind, keys.previous.hmac('instrument', number), keys.current.hmac('instrument', number), keys.current.id],
  );
  return (rowCount ?? 0) > 0;
}

/** A key registered here, with how many links name it (`jht-switch keys status`). */
export interface DataKeyUsage {
  keyId: string;
  checkValue: string;
  registeredAt: Date;
  retiredAt: Date | null;
  links: number;
}

/** Every registered key and its link count; readable by the switch and support roles. */
export async function dataKeyUsage(client: Pool | PoolClient): Promise<DataKeyUsage[]> {
  const { rows } = await client.query<{ key_id: string; check_value: string; registered_at: Date; retired_at: Date | null; links: number }>(
    `SELECT k.key_id, k.check_value, k.registered_at, k.retired_at, coalesce(l.links, 0)::int AS links
       FROM data_key k LEFT JOIN (SELECT key_id, count(*) AS links FROM instrument_link GROUP BY key_id) l USING (key_id)
      ORDER BY k.registered_at`,
  );
  return rows.map((row) => ({ keyId: row.key_id, checkValue: row.check_value, registeredAt: row.registered_at, retiredAt: row.retired_at, links: row.links }));
}

/**
 * Marks a key retired once no link names it (the importer's role): switches then start without it. The
 * key's row is locked first, which waits for an import still adding links under it (their foreign key
 * checks hold a share lock on the row), so a link committed meanwhile is counted, not orphaned.
 * The retirement is journaled with the operator's uid in the same transaction (migration 016).
 * @throws DataKeyRetireError LEDGER_DATA_KEY_UNKNOWN or LEDGER_DATA_KEY_IN_USE.
 * @returns false when the key was retired already.
 */
export async function retireDataKey(pool: Pool, keyId: string, operator: Operator): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const key = await client.query<{ retired: boolean }>('SELECT retired_at IS NOT NULL AS retired FROM data_key WHERE key_id = $1 FOR UPDATE', [keyId]);
    if (key.rows.length === 0) throw new DataKeyRetireError('LEDGER_DATA_KEY_UNKNOWN', `data key ${keyId} is not registered in this database`);
    const { rows } = await client.query<{ links: number }>('SELECT count(*)::int AS links FROM instrument_link WHERE key_id = $1', [keyId]);
    const links = rows[0]?.links ?? 0;
    if (links > 0) {
      throw new DataKeyRetireError('LEDGER_DATA_KEY_IN_USE', `data key ${keyId} still has ${links} links: import the banks' link files again under the new key first (SECURITY.md, "Key rotation")`);
    }
    if (key.rows[0]!.retired) {
      await client.query('ROLLBACK');
      return false;
    }
    await client.query('UPDATE data_key SET retired_at = now() WHERE key_id = $1', [keyId]);
    await client.query('INSERT INTO data_key_retirement (key_id, operator_uid, sudo_uid) VALUES ($1, $2, $3)',
      [keyId, operator.uid, claimedSudoUid(operator)]);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * @throws DataKeyNotHeldError when a key that is not retired is not a lookup key of `keys` (current or
 * previous: a verify-only key finds no link, so its links would answer 14), when a held key's check value
 * differs from the registered one (another key with a colliding id), or when links without a key id remain
 * (made by a build before migration 008).
 */
export async function assertDataKeysHeld(pool: Pool, keys: KeyRing): Promise<void> {
  const { rows } = await pool.query<{ key_id: string; check_value: string }>(
    'SELECT key_id, check_value FROM data_key WHERE retired_at IS NULL ORDER BY registered_at',
  );
  const lookup = new Map(keys.lookupKeys().map((key) => [key.id, key]));
  const missing = rows.filter((row) => lookup.get(row.key_id)?.checkValue('instrument') !== row.check_value);
  if (missing.length > 0) {
    throw new DataKeyNotHeldError(
      `the database holds links hashed under data key ${missing.map((row) => row.key_id).join(', ')}, which this switch does not look up with ` +
      `(current ${keys.current.id}${keys.previous ? `, previous ${keys.previous.id}` : ''}): configure that key as the current or previous one ` +
      'until `jht-switch keys retire` (SECURITY.md, "Key rotation")',
    );
  }
  const unkeyed = await pool.query('SELECT 1 FROM instrument_link WHERE key_id IS NULL LIMIT 1');
  if ((unkeyed.rowCount ?? 0) > 0) {
    throw new DataKeyNotHeldError('the database holds card or account links hashed by an earlier build, under no recorded key: import the link files again');
  }
}
