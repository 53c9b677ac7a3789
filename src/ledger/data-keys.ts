import type { Pool, PoolClient } from 'pg';
import type { DataKey, KeyRing } from '../security/keys/index.js';
import { DataKeyNotHeldError } from './errors.js';

/**
 * The database side of the key model (migration 008): which data keys have written hashes here. Every writer
 * of hashes registers its key first, in the same transaction; every process that reads hashes checks at
 * start that it holds each key still in use.
 */

/** Records `key` (id and check value only) as one that writes hashes here. Idempotent. */
export async function registerDataKey(client: Pool | PoolClient, key: DataKey): Promise<void> {
  await client.query(
    'INSERT INTO data_key (key_id, check_value) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING',
    [key.id, key.checkValue('instrument')],
  );
}

/**
 * @throws DataKeyNotHeldError when a key that is not retired is missing from `keys`, when a held key's check
 * value differs from the registered one (another key with a colliding id), or when links without a key id
 * remain (made by a build before migration 008).
 */
export async function assertDataKeysHeld(pool: Pool, keys: KeyRing): Promise<void> {
  const { rows } = await pool.query<{ key_id: string; check_value: string }>(
    'SELECT key_id, check_value FROM data_key WHERE retired_at IS NULL ORDER BY registered_at',
  );
  const missing = rows.filter((row) => keys.byId(row.key_id)?.checkValue('instrument') !== row.check_value);
  if (missing.length > 0) {
    throw new DataKeyNotHeldError(
      `the database holds hashes made under data key ${missing.map((row) => row.key_id).join(', ')}, which this switch does not hold ` +
      `(it holds ${keys.ids().join(', ')}): configure that key, or its rotation (SECURITY.md, "Key rotation")`,
    );
  }
  const unkeyed = await pool.query('SELECT 1 FROM instrument_link WHERE key_id IS NULL LIMIT 1');
  if ((unkeyed.rowCount ?? 0) > 0) {
    throw new DataKeyNotHeldError('the database holds card or account links hashed by an earlier build, under no recorded key: import the link files again');
  }
}
