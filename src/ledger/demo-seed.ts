import type { Pool } from 'pg';
import type { Logger } from '../observability/logger.js';
import { accountHash, cardHash, lastFour } from './card-hash.js';

/**
 * The demo data of the contract (specs/CONTRACT.md, "Demo data"), hashed under the configured card key.
 * Balances are built from postings, as real ones are, so the balance trigger is exercised from the first run.
 * Idempotent: every row has a natural key (KPJ, instrument hash, posting source_ref) and is inserted with
 * ON CONFLICT DO NOTHING, so seeding twice, or from two instances at once, changes nothing.
 */

export type PostingKind = 'CONTRIBUTION' | 'DEVELOPMENT' | 'CLAIM' | 'CORRECTION';

export interface DemoPosting {
  kind: PostingKind;
  amountSen: bigint;
  valueDate: string; // YYYY-MM-DD
}

export interface DemoParticipant {
  kpj: string;
  name: string;
  membershipStatus: 'ACTIVE' | 'BLOCKED' | 'CLOSED';
  cards: readonly string[];
  accounts: readonly string[];
  balanceSen: bigint;
  postings: readonly DemoPosting[];
}

export const DEMO_AS_OF = '2026-10-31';
/** A well-formed card that no participant is linked to (response 14). */
export const DEMO_UNLINKED_CARD = '6040990000000092';

export const DEMO_PARTICIPANTS: readonly DemoParticipant[] = [
  {
    kpj: '12000000001',
    name: 'BUDI SANTOSO',
    membershipStatus: 'ACTIVE',
    cards: ['6040990000000001'],
    accounts: ['1234567890'],
    balanceSen: 1_525_000_000n, // IDR 15,250,000.00
    postings: [
      { kind: 'CONTRIBUTION', amountSen: 600_000_000n, valueDate: '2024-12-31' },
      { kind: 'CONTRIBUTION', amountSen: 300_000_000n, valueDate: '2025-06-30' },
      { kind: 'DEVELOPMENT', amountSen: 52_500_000n, valueDate: '2025-12-31' },
      { kind: 'CONTRIBUTION', amountSen: 250_000_000n, valueDate: '2026-03-31' },
      { kind: 'CONTRIBUTION', amountSen: 250_000_000n, valueDate: '2026-06-30' },
      { kind: 'DEVELOPMENT', amountSen: 72_500_000n, valueDate: '2026-10-31' },
    ],
  },
  {
    kpj: '12000000002',
    name: 'SITI RAHAYU',
    membershipStatus: 'ACTIVE',
    cards: ['6040990000000019'],
    accounts: [],
    balanceSen: 8_765_432_150n, // IDR 87,654,321.50
    postings: [
      { kind: 'CONTRIBUTION', amountSen: 5_000_000_000n, valueDate: '2023-12-31' },
      { kind: 'DEVELOPMENT', amountSen: 312_500_000n, valueDate: '2024-12-31' },
      { kind: 'CONTRIBUTION', amountSen: 1_800_000_000n, valueDate: '2025-06-30' },
      { kind: 'DEVELOPMENT', amountSen: 401_234_567n, valueDate: '2025-12-31' },
      { kind: 'CONTRIBUTION', amountSen: 900_000_000n, valueDate: '2026-06-30' },
      { kind: 'DEVELOPMENT', amountSen: 351_697_583n, valueDate: '2026-10-31' },
    ],
  },
  {
    kpj: '12000000003',
    name: 'AGUS PRASETYO',
    membershipStatus: 'BLOCKED',
    cards: ['6040990000000027'],
    accounts: [],
    balanceSen: 300_000_000n, // IDR 3,000,000.00
    postings: [
      { kind: 'CONTRIBUTION', amountSen: 150_000_000n, valueDate: '2025-01-31' },
      { kind: 'DEVELOPMENT', amountSen: 9_000_000n, valueDate: '2025-12-31' },
      { kind: 'CONTRIBUTION', amountSen: 125_000_000n, valueDate: '2026-07-31' },
      { kind: 'DEVELOPMENT', amountSen: 16_000_000n, valueDate: '2026-10-31' },
    ],
  },
];

export interface SeedResult {
  /** Rows inserted by this call: all zero when the demo data was already there. */
  participants: number;
  links: number;
  postings: number;
}

export async function seedDemoData(pool: Pool, cardKey: Buffer, log?: Logger): Promise<SeedResult> {
  for (const participant of DEMO_PARTICIPANTS) assertPostingsMatchBalance(participant);
  const result: SeedResult = { participants: 0, links: 0, postings: 0 };
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const participant of DEMO_PARTICIPANTS) {
      const inserted = await client.query(
        `INSERT INTO participant (kpj_number, name, membership_status) VALUES ($1, $2, $3)
         ON CONFLICT (kpj_number) DO NOTHING`,
        [participant.kpj, participant.name, participant.membershipStatus],
      );
      result.participants += inserted.rowCount ?? 0;
      const { rows } = await client.query<{ id: bigint }>(
        'SELECT id FROM participant WHERE kpj_number = $1', [participant.kpj],
      );
      const participantId = rows[0]?.id;
      if (participantId === undefined) throw new Error(`demo participant ${participant.kpj} vanished`);

      const links = [
        ...participant.cards.map((pan) => ({ kind: 'CARD', hash: cardHash(cardKey, pan), last4: lastFour(pan) })),
        ...participant.accounts.map((account) => ({
          kind: 'ACCOUNT', hash: accountHash(cardKey, account), last4: lastFour(account),
        })),
      ];
      for (const link of links) {
        const linked = await client.query(
          `INSERT INTO instrument_link (kind, instrument_hash, last4, participant_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (kind, instrument_hash) DO NOTHING`,
          [link.kind, link.hash, link.last4, participantId],
        );
        result.links += linked.rowCount ?? 0;
      }
      for (const posting of participant.postings) {
        const posted = await client.query(
          `INSERT INTO jht_posting (participant_id, kind, amount_sen, value_date, source_ref)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_ref) DO NOTHING`,
          [participantId, posting.kind, posting.amountSen, posting.valueDate,
            `DEMO:${participant.kpj}:${posting.valueDate}:${posting.kind}`],
        );
        result.postings += posted.rowCount ?? 0;
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  log?.info(result, 'ledger: demo data seeded');
  return result;
}

/** Guards the table above: a typo in one amount must fail loudly, not show a wrong balance at the ATM. */
function assertPostingsMatchBalance(participant: DemoParticipant): void {
  const total = participant.postings.reduce((sum, posting) => sum + posting.amountSen, 0n);
  const last = participant.postings.reduce((max, posting) => (posting.valueDate > max ? posting.valueDate : max), '');
  if (total !== participant.balanceSen || last !== DEMO_AS_OF) {
    throw new Error(`demo data for ${participant.kpj} is inconsistent: postings sum ${total}, last value date ${last}`);
  }
}
