/** What the ATM path needs to answer an inquiry; the switch decides 00 / 14 / 57 from it. */
export type ParticipantLookup =
  | { kind: 'not-linked' }
  | {
    kind: 'found';
    /** participant.id: the journal names the participant by it, never by a card. */
    participantId: bigint;
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
export const LOOKUP_COLUMNS = `p.id AS participant_id,
       p.kpj_number,
       p.name,
       p.membership_status,
       l.link_status,
       coalesce(b.balance_sen, 0)                                     AS balance_sen,
       to_char(coalesce(b.as_of, p.created_at::date), 'YYYYMMDD')     AS as_of`;

/**
 * link -> participant -> balance for the SQL expressions `kind` and `hashes` (current key first); LEFT joins
 * keep unlinked rows (their lookup columns are null). With one hash it is a plain equality join, the statement of every day outside a
 * rotation. With two, a card re-linked under the new key may have a row under each: the lateral subquery
 * takes one row, the current key's when there are both, so a lookup never answers twice.
 */
export function lookupJoins(kind: string, hashes: readonly string[]): string {
  const [current, previous] = hashes;
  const link = previous === undefined
    ? `LEFT JOIN instrument_link l ON l.kind = ${kind} AND l.instrument_hash = ${current}`
    : `LEFT JOIN LATERAL (
      SELECT x.participant_id, x.link_status FROM instrument_link x
       WHERE x.kind = ${kind} AND x.instrument_hash IN (${current}, ${previous})
       ORDER BY x.instrument_hash = ${current} DESC LIMIT 1) l ON true`;
  return `${link}
  LEFT JOIN participant p     ON p.id = l.participant_id
  LEFT JOIN jht_balance b ON b.participant_id = p.id`;
}

/** The lookup columns of a row; all null when a LEFT join found no participant linked. */
export interface LookupColumns {
  /** int8, as balance_sen. */
  participant_id: bigint | string | null;
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
    participantId: BigInt(row.participant_id!),
    kpj: row.kpj_number,
    name: row.name!,
    membershipStatus: row.membership_status!,
    linkStatus: row.link_status!,
    balanceSen: BigInt(row.balance_sen!),
    asOf: row.as_of!,
  };
}
