import type { Pool } from 'pg';
import type { Logger } from '../observability/logger.js';
import type { DataKey } from '../security/keys/index.js';
import { registerDataKey } from './data-keys.js';
import { instrumentHash, lastFour } from './instrument-hash.js';
import { markDemo } from './deployment.js';
import { DEMO_AS_OF, DEMO_PARTICIPANTS, type DemoParticipant } from './demo-data.js';

/**
 * Loads the demo data (specs/demo/*.csv, see demo-data.ts) into the ledger, hashed under the data key given (the
 * development key on the embedded demo).
 * Balances are built from postings, as real ones are, so the balance trigger is exercised from the first run.
 * Idempotent: every row has a natural key (KPJ, instrument hash, posting source_ref) and is inserted with
 * ON CONFLICT DO NOTHING, so seeding twice, or from two instances at once, changes nothing.
 */

export interface SeedResult {
  /** Rows inserted by this call: all zero when the demo data was already there. */
  participants: number;
  links: number;
  postings: number;
}

/** `asDemo`: set the demo marker in the same transaction (only for a new, empty embedded cluster). */
export async function seedDemoData(pool: Pool, key: DataKey, log?: Logger, options: { asDemo?: boolean } = {}): Promise<SeedResult> {
  for (const participant of DEMO_PARTICIPANTS) assertPostingsMatchBalance(participant);
  const result: SeedResult = { participants: 0, links: 0, postings: 0 };
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await registerDataKey(client, key);
    for (const participant of DEMO_PARTICIPANTS) {
      const inserted = await client.query(
        `INSERT INTO participant (kpj_number, name, membership_status, nik_hash, nik_key_id) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kpj_number) DO NOTHING`,
        [participant.kpj, participant.name, participant.membershipStatus,
          participant.nik === undefined ? null : key.hmac('contact', participant.nik), participant.nik === undefined ? null : key.id],
      );
      result.participants += inserted.rowCount ?? 0;
      const { rows } = await client.query<{ id: bigint }>(
        'SELECT id FROM participant WHERE kpj_number = $1', [participant.kpj],
      );
      const participantId = rows[0]?.id;
      if (participantId === undefined) throw new Error(`demo participant ${participant.kpj} vanished`);

      const links = [
        ...participant.cards.map((pan) => ({ kind: 'CARD', number: pan })),
        ...participant.accounts.map((account) => ({ kind: 'ACCOUNT', number: account })),
      ];
      for (const link of links) {
        const linked = await client.query(
          `INSERT INTO instrument_link (kind, instrument_hash, key_id, last4, participant_id) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (kind, instrument_hash) DO NOTHING`,
          [link.kind, instrumentHash(key, link.number), key.id, lastFour(link.number), participantId],
        );
        result.links += linked.rowCount ?? 0;
      }
      for (const posting of participant.postings) {
        const posted = await client.query(
          `INSERT INTO jht_posting (participant_id, kind, amount_sen, value_date, source_ref)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_ref) DO NOTHING`,
          [participantId, posting.kind, posting.amountSen, posting.valueDate, posting.sourceRef],
        );
        result.postings += posted.rowCount ?? 0;
      }
    }
    if (options.asDemo) await markDemo(client, 'new embedded cluster seeded with the demo data (specs/demo)');
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  if (result.participants + result.links + result.postings > 0) log?.info(result, 'ledger: demo data seeded');
  return result;
}

/** Guards the files: a participant's postings must end on the contract's as-of date, with a positive balance. */
function assertPostingsMatchBalance(participant: DemoParticipant): void {
  if (participant.asOf !== DEMO_AS_OF || participant.balanceSen <= 0n || participant.postings.length === 0) {
    throw new Error(`demo data for ${participant.kpj} is inconsistent: balance ${participant.balanceSen}, as of ${participant.asOf}`);
  }
}
