import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import type { Logger } from '../observability/logger.js';
import type { DataKey } from '../security/keys/index.js';
import { registerDataKey } from './data-keys.js';
import { markDemo } from './deployment.js';
import { DEMO_AS_OF, DEMO_DIR, DEMO_PARTICIPANTS, type DemoParticipant } from './demo-data.js';
import { FILE_KINDS, importInto, lockImports } from './import/index.js';

/**
 * Loads the demo data (specs/demo/*.csv, see demo-data.ts) into the ledger through the data importer, the
 * same path as real files, hashed under the data key given (the development key on the embedded demo).
 * Balances are built from postings, as real ones are, so the balance trigger is exercised from the first run.
 * Idempotent, as every import is: seeding twice, or from two instances at once (the import lock), changes nothing.
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
    await lockImports(client);
    await registerDataKey(client, key);
    for (const kind of [FILE_KINDS.participants, FILE_KINDS.links, FILE_KINDS.postings]) {
      const file = `${kind.name}.csv`;
      const summary = await importInto(client, { kind, key, input: createReadStream(path.join(DEMO_DIR, file)), fileName: `specs/demo/${file}` });
      result[kind.name] = summary.inserted;
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
