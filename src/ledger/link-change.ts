import type { Pool } from 'pg';
import type { KeyRing } from '../security/keys/index.js';
import { claimedSudoUid, type Operator } from './operator.js';

/**
 * `jht-switch link block|unblock|remove`: one link, found by the number's hash under every lookup key, changed
 * and journaled (link_change, migration 011) in one transaction. The switch reads the ledger on every inquiry,
 * so the change applies from the next one.
 *
 * A long import holds the rows it changes until it commits; the command waits {@link LINK_LOCK_TIMEOUT} at
 * most, then fails with LinkBusyError rather than hang behind it.
 */
export type LinkAction = 'block' | 'unblock' | 'remove';

export const LINK_LOCK_TIMEOUT = '3s';

export interface LinkChangeResult {
  kind: string;
  last4: string;
  kpj: string;
  from: string;
  to: string;
}

export class LinkNotFoundError extends Error {
  override readonly name = 'LinkNotFoundError';
  readonly code = 'LINK_NOT_FOUND';
}

export class LinkBusyError extends Error {
  override readonly name = 'LinkBusyError';
  readonly code = 'LINK_BUSY';
}

const LOCK_NOT_AVAILABLE = '55P03';

export async function changeLink(
  pool: Pool, keys: KeyRing, kind: 'CARD' | 'ACCOUNT', number: string, action: LinkAction, operator: Operator,
): Promise<LinkChangeResult> {
  const hashes = keys.lookupHashes('instrument', number);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = '${LINK_LOCK_TIMEOUT}'`);
    const { rows: [link] } = await client.query<{ id: string; last4: string; link_status: string; key_id: string; kpj_number: string }>(
      `SELECT l.id, l.last4, l.link_status, l.key_id, p.kpj_number
         FROM instrument_link l JOIN participant p ON p.id = l.participant_id
        WHERE l.kind = $1 AND l.instrument_hash = ANY ($2::bytea[]) ORDER BY l.id LIMIT 1 FOR UPDATE OF l`, [kind, hashes]);
    if (!link) throw new LinkNotFoundError(`no ${kind === 'CARD' ? 'card' : 'account'} with that number is linked`);
    const to = action === 'remove' ? 'REMOVED' : action === 'block' ? 'BLOCKED' : 'ACTIVE';
    if (action === 'remove') await client.query('DELETE FROM instrument_link WHERE id = $1', [link.id]);
    else await client.query('UPDATE instrument_link SET link_status = $2 WHERE id = $1', [link.id, to]);
    await client.query(
      `INSERT INTO link_change (action, kind, last4, key_id, kpj_number, from_status, operator_uid, sudo_uid)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [action, kind, link.last4, link.key_id, link.kpj_number, link.link_status, operator.uid,
        claimedSudoUid(operator)]);
    await client.query('COMMIT');
    return { kind, last4: link.last4, kpj: link.kpj_number, from: link.link_status, to };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: unknown }).code === LOCK_NOT_AVAILABLE) {
      throw new LinkBusyError(`an import holds this link's rows: nothing changed; try again when it has committed (waited ${LINK_LOCK_TIMEOUT})`);
    }
    throw error;
  } finally {
    client.release();
  }
}
