import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { requestDigest } from '../../src/journal/index.js';
import { AtmClaims } from '../../src/channels/atm/transaction-key.js';
import { ClaimStore } from '../../src/inquiry/index.js';
import { LedgerReader, type ParticipantLookup } from '../../src/ledger/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { KeyRing } from '../../src/security/keys/index.js';

/**
 * Reads the ledger the way the ATM does: a new duplicate-detection claim (a fresh, random terminal) with the
 * read in the same statement. For tests of what the ledger holds for a card or an account.
 */
export async function readLedger(pool: Pool, keys: KeyRing, instrument: { card: string } | { account: string }): Promise<ParticipantLookup> {
  const ledger = new LedgerReader({ keys, log: silentLogger() });
  const store = new AtmClaims(new ClaimStore(pool, { instanceId: `ledger-read-${process.pid}`, logger: silentLogger() }));
  try {
    const key = { acquirerId: '99901', stan: '000001', transmissionAt: '1125103000', terminalId: randomBytes(4).toString('hex').toUpperCase() };
    const ref = 'card' in instrument ? ledger.card(instrument.card) : ledger.account(instrument.account);
    const claim = await store.claim(key, requestDigest(keys, randomBytes(16)), '0200', ref);
    if (claim.kind !== 'new' || claim.lookup === undefined) throw new Error(`a fresh claim came back ${claim.kind}, without a read`);
    store.abandon(claim.id);
    return claim.lookup;
  } finally {
    store.close();
    await ledger.close();
  }
}
