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
 * One instrument to look up: its kind and its HMAC under each lookup key of the ring (see instrument-hash.ts),
 * current key first: one hash outside a rotation window, two during one (SECURITY.md, "Key rotation").
 */
export interface InstrumentRef {
  readonly kind: InstrumentKind;
  readonly hashes: readonly Buffer[];
}

/** Hashes per instrument a statement matches: 1, or 2 during a rotation window (KeyRing.lookupKeys). */
export type LookupWidth = 1 | 2;

/** The width a batch needs: 2 when any of its instruments carries a previous key's hash. */
export function lookupWidth(refs: readonly (InstrumentRef | undefined)[]): LookupWidth {
  let width = 1;
  for (const ref of refs) if (ref && ref.hashes.length > width) width = ref.hashes.length;
  if (width > 2) throw new RangeError('a lookup tries at most two keys (current and previous)');
  return width as LookupWidth;
}

/** The i-th hash of each instrument (null past its last one, or for no instrument): one bytea[] parameter. */
export function hashColumn(refs: readonly (InstrumentRef | undefined)[], index: number): (Buffer | null)[] {
  return refs.map((ref) => ref?.hashes[index] ?? null);
}

/**
 * What a lookup selects over the aliases `lookupJoins` binds: link l, participant p, balance b. Shared with
 * the duplicate-detection claim, which reads the ledger in its own statement (src/journal/claim-batcher.ts).
 * A participant without postings yet has balance 0 and no as-of date: reported as of the day they registered.
 */
export const LOOKUP_COLUMNS = `p.kpj_number,
       p.name,
       p.membership_status,
       l.link_status,
       coalesce(b.balance_sen, 0)                                     AS balance_sen,
       to_char(coalesce(b.as_of, p.created_at::date), 'YYYYMMDD')     AS as_of`;

/**
 * link -> participant -> balance for the SQL expressions `kind` and `hashes` (current key first); a LEFT join
 * keeps unlinked rows. With one hash it is a plain equality join, the statement of every day outside a
 * rotation. With two, a card re-linked under the new key may have a row under each: the lateral subquery
 * takes one row, the current key's when there are both, so a lookup never answers twice.
 */
export function lookupJoins(kind: string, hashes: readonly string[], join: 'JOIN' | 'LEFT JOIN'): string {
  const [current, previous] = hashes;
  const link = previous === undefined
    ? `${join} instrument_link l ON l.kind = ${kind} AND l.instrument_hash = ${current}`
    : `${join} LATERAL (
      SELECT x.participant_id, x.link_status FROM instrument_link x
       WHERE x.kind = ${kind} AND x.instrument_hash IN (${current}, ${previous})
       ORDER BY x.instrument_hash = ${current} DESC LIMIT 1) l ON true`;
  return `${link}
  ${join} participant p     ON p.id = l.participant_id
  LEFT JOIN jht_balance b ON b.participant_id = p.id`;
}

/**
 * Resolves a batch of (kind, hash) pairs in one round trip. `ord` maps each row back to its position in the
 * batch (a key absent from the result is not linked). Prepared once per connection under a fixed name; bump
 * the suffix if the text changes, since pg refuses a known name with a different text on a connection that
 * already prepared it.
 */
export const LOOKUP_STATEMENT_NAME = 'jht_ledger_lookup_v1';
export const LOOKUP_SQL = `
SELECT q.ord::int4                                                    AS ord,
       ${LOOKUP_COLUMNS}
  FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS q (kind, hash, ord)
  ${lookupJoins('q.kind', ['q.hash'], 'JOIN')}`;
/** The same during a rotation window: each instrument under the current and the previous key. */
const ROTATION_LOOKUP_STATEMENT_NAME = 'jht_ledger_lookup_rotation_v1';
const ROTATION_LOOKUP_SQL = `
SELECT q.ord::int4                                                    AS ord,
       ${LOOKUP_COLUMNS}
  FROM unnest($1::text[], $2::bytea[], $3::bytea[]) WITH ORDINALITY AS q (kind, hash, previous_hash, ord)
  ${lookupJoins('q.kind', ['q.hash', 'q.previous_hash'], 'JOIN')}`;

/** The lookup columns of a row; all null when a LEFT join found no participant linked. */
export interface LookupColumns {
  kpj_number: string | null;
  name: string | null;
  membership_status: string | null;
  link_status: string | null;
  /** int8: a bigint with the ledger pool's parsers, a string with pg's defaults. */
  balance_sen: bigint | string | null;
  as_of: string | null;
}

/** What the switch needs from a row's lookup columns. */
export function participantOf(row: LookupColumns): ParticipantLookup {
  if (row.kpj_number === null) return NOT_LINKED;
  return {
    kind: 'found',
    kpj: row.kpj_number,
    name: row.name!,
    membershipStatus: row.membership_status!,
    linkStatus: row.link_status!,
    balanceSen: BigInt(row.balance_sen!),
    asOf: row.as_of!,
  };
}

interface LookupRow extends LookupColumns {
  ord: number;
}

type LookupValues = (InstrumentKind[] | (Buffer | null)[])[];

/** pg honours a per-query `query_timeout` (client side) that its typings do not declare. */
interface TimedQueryConfig extends QueryConfig<LookupValues> {
  query_timeout: number;
}

/**
 * Runs the lookup for each of `instruments` and returns one result per input, in order.
 * `queryTimeoutMs` makes pg give up on the connection after that long: the pool then discards it instead
 * of leaving it busy with a query nobody waits for.
 */
export async function lookupInstruments(
  pool: Pool, instruments: readonly InstrumentRef[], queryTimeoutMs: number,
): Promise<ParticipantLookup[]> {
  const rotation = lookupWidth(instruments) === 2;
  const kinds = instruments.map((instrument) => instrument.kind);
  const query: TimedQueryConfig = {
    name: rotation ? ROTATION_LOOKUP_STATEMENT_NAME : LOOKUP_STATEMENT_NAME,
    text: rotation ? ROTATION_LOOKUP_SQL : LOOKUP_SQL,
    values: rotation ? [kinds, hashColumn(instruments, 0), hashColumn(instruments, 1)] : [kinds, hashColumn(instruments, 0)],
    query_timeout: queryTimeoutMs,
  };
  const { rows } = await pool.query<LookupRow, LookupValues>(query);
  const results = new Array<ParticipantLookup>(instruments.length).fill(NOT_LINKED);
  for (const row of rows) results[row.ord - 1] = participantOf(row);
  return results;
}
