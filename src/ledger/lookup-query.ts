import type { Pool, QueryConfig } from 'pg';

/** What the ATM path needs to answer an inquiry; the switch decides 00 / 14 / 57 from it. */
export type ParticipantLookup =
  | { kind: 'not-linked' }
  | {
    kind: 'found';
    kpj: string;
    name: string;
    /** participant.membership_status: 'ACTIVE' | 'BLOCKED' | 'CLOSED' (only ACTIVE may be served). */
    membershipStatus: string;
    /** instrument_link.link_status: 'ACTIVE' | 'BLOCKED'. */
    linkStatus: string;
    balanceSen: bigint;
    /** Latest value date of the postings, YYYYMMDD (field 48). */
    asOf: string;
  };

export type InstrumentKind = 'CARD' | 'ACCOUNT';

export const NOT_LINKED: ParticipantLookup = Object.freeze({ kind: 'not-linked' });

/**
 * Resolves a batch of (kind, hash) pairs in one round trip: link -> participant -> balance. `ord` maps each
 * row back to its position in the batch (a key absent from the result is not linked). Prepared once per
 * connection under a fixed name; bump the suffix if the text changes, since pg refuses a known name with a
 * different text on a connection that already prepared it.
 *
 * A participant without postings yet has balance 0 and no as-of date: reported as of the day they registered.
 */
export const LOOKUP_STATEMENT_NAME = 'jht_ledger_lookup_v1';
export const LOOKUP_SQL = `
SELECT q.ord::int4                                                    AS ord,
       p.kpj_number,
       p.name,
       p.membership_status,
       l.link_status,
       coalesce(b.balance_sen, 0)                                     AS balance_sen,
       to_char(coalesce(b.as_of, p.created_at::date), 'YYYYMMDD')     AS as_of
  FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS q (kind, hash, ord)
  JOIN instrument_link l ON l.kind = q.kind AND l.instrument_hash = q.hash
  JOIN participant p     ON p.id = l.participant_id
  LEFT JOIN jht_balance b ON b.participant_id = p.id`;

interface LookupRow {
  ord: number;
  kpj_number: string;
  name: string;
  membership_status: string;
  link_status: string;
  balance_sen: bigint;
  as_of: string;
}

/** pg honours a per-query `query_timeout` (client side) that its typings do not declare. */
interface TimedQueryConfig extends QueryConfig<[InstrumentKind[], Buffer[]]> {
  query_timeout: number;
}

/**
 * Runs the lookup for `kinds[i]` / `hashes[i]` and returns one result per input, in order.
 * `queryTimeoutMs` makes pg give up on the connection after that long: the pool then discards it instead
 * of leaving it busy with a query nobody waits for.
 */
export async function lookupInstruments(
  pool: Pool, kinds: InstrumentKind[], hashes: Buffer[], queryTimeoutMs: number,
): Promise<ParticipantLookup[]> {
  const query: TimedQueryConfig = {
    name: LOOKUP_STATEMENT_NAME,
    text: LOOKUP_SQL,
    values: [kinds, hashes],
    query_timeout: queryTimeoutMs,
  };
  const { rows } = await pool.query<LookupRow, [InstrumentKind[], Buffer[]]>(query);
  const results = new Array<ParticipantLookup>(kinds.length).fill(NOT_LINKED);
  for (const row of rows) {
    results[row.ord - 1] = {
      kind: 'found',
      kpj: row.kpj_number,
      name: row.name,
      membershipStatus: row.membership_status,
      linkStatus: row.link_status,
      balanceSen: row.balance_sen,
      asOf: row.as_of,
    };
  }
  return results;
}
