import { accountNumber, instrumentHash, lastFour } from '../instrument-hash.js';
import { RowChecker, kpjProblem, luhnValid, oneOf } from './fields.js';
import { countOf, repeatedKeyCheck, type FileKind, type LinkMove } from './file-kind.js';

type Client = Parameters<FileKind['apply']>[0];

/**
 * links.csv: `kind,number,kpj,status[,issuer]` (specs/DATA-FILES.md). The key is (kind, number), hashed here
 * under the data key's `instrument` purpose exactly as the ATM path hashes field 2 / 102 (accountNumber).
 * A known link is updated; one whose kpj changes is moved (each move is listed); REMOVED deletes it. During a
 * rotation window the number is hashed under both keys, and a link found under the previous key is rekeyed.
 */

const KINDS = ['CARD', 'ACCOUNT'] as const;
const STATUSES = ['ACTIVE', 'BLOCKED', 'REMOVED'] as const;
const ISSUER = /^[a-z0-9][a-z0-9-]{0,63}$/;
const PRINTABLE = /^[\x20-\x7e]{1,28}$/;

/** The number as the ledger keys it, or why it is not a card or account number. */
export function linkNumber(kind: string, raw: string): { number: string } | { reason: string } {
  if (kind === 'CARD') {
    return /^[0-9]{13,19}$/.test(raw) && luhnValid(raw) ? { number: raw } : { reason: 'not a card number (13 to 19 digits passing Luhn)' };
  }
  const number = accountNumber(raw);
  return PRINTABLE.test(number) ? { number } : { reason: 'not an account number (1 to 28 printable characters, padding spaces aside)' };
}

export const linksFile: FileKind = {
  name: 'links',
  shape: { known: ['kind', 'number', 'kpj', 'status', 'issuer'], required: ['kind', 'number'] },
  staging: 'kind text, hash bytea, prev_hash bytea, last4 text, kpj char(11), status text, issuer text',

  stage(record, _header, keys) {
    const check = new RowChecker(record.line, record.values);
    const kind = check.get('kind', oneOf(KINDS));
    const status = check.get('status', oneOf(STATUSES));
    // A link being removed need not name its participant.
    const kpj = status === 'REMOVED' && check.raw('kpj') === '' ? undefined : check.get('kpj', kpjProblem);
    const issuer = check.get('issuer', (value) => (value === '' || ISSUER.test(value) ? undefined : 'not a partner id (lower-case letters, digits, dashes)'));
    let number: string | undefined;
    const raw = check.raw('number') ?? '';
    if (kind) {
      const parsed = linkNumber(kind, raw);
      if ('reason' in parsed) check.fail('number', parsed.reason);
      else number = parsed.number;
    }
    if (check.errors.length > 0 || !kind || number === undefined) return { errors: check.errors };
    const previous = keys.previous ? instrumentHash(keys.previous, number) : null;
    return { row: [kind, instrumentHash(keys.current, number), previous, lastFour(number), kpj ?? null, status ?? null, issuer || null] };
  },

  checks(header) {
    return [
      repeatedKeyCheck('stage', ['kind', 'hash'], 'number', `'the same ' || lower(s.kind) || ' appears again (first on line ' || d.first || ')'`),
      `SELECT s.line, 'kpj' AS "column", 'no such participant (import participants.csv first)' AS reason
         FROM stage s WHERE s.kpj IS NOT NULL AND NOT EXISTS (SELECT 1 FROM participant p WHERE p.kpj_number = s.kpj)`,
      ...(header.has('kpj') ? [] : [
        `SELECT s.line, 'kpj' AS "column", 'required for a new link (the file has no kpj column)' AS reason
           FROM stage s WHERE NOT EXISTS (SELECT 1 FROM instrument_link l WHERE l.kind = s.kind AND l.instrument_hash IN (s.hash, s.prev_hash))
            AND s.status IS DISTINCT FROM 'REMOVED'`,
      ]),
    ];
  },

  async apply(client, header, keys, initial) {
    const total = await countOf(client, 'SELECT count(*) AS n FROM stage');
    if (initial) {
      const inserted = await insertNew(client, header, keys.current.id);
      return { inserted, updated: 0, unchanged: total - inserted, removed: 0, rekeyed: 0, moves: [] };
    }
    // First, so that the moves, removals and updates below find every known link by its current hash.
    const rekeyed = keys.previous ? await rekey(client, keys.current.id) : 0;
    const { rows: moves } = await client.query<LinkMove>(`
      SELECT s.line, s.kind, l.last4, was.kpj_number AS from, s.kpj AS to
        FROM stage s
        JOIN instrument_link l ON l.kind = s.kind AND l.instrument_hash = s.hash
        JOIN participant was ON was.id = l.participant_id
       WHERE s.kpj IS NOT NULL AND s.kpj <> was.kpj_number AND s.status IS DISTINCT FROM 'REMOVED'
       ORDER BY s.line`);
    const removed = await countOf(client, `
      WITH gone AS (
        DELETE FROM instrument_link l USING stage s
         WHERE l.kind = s.kind AND l.instrument_hash = s.hash AND s.status = 'REMOVED'
        RETURNING 1)
      SELECT count(*) AS n FROM gone`);
    const sets = [
      ...(header.has('kpj') ? [['participant_id', 'coalesce(p.id, l.participant_id)']] : []),
      ...(header.has('status') ? [['link_status', 's.status']] : []),
      ...(header.has('issuer') ? [['issuer', 's.issuer']] : []),
    ];
    const updated = sets.length === 0 ? 0 : await countOf(client, `
      WITH changed AS (
        UPDATE instrument_link l SET ${sets.map(([column, value]) => `${column} = ${value}`).join(', ')}
          FROM stage s LEFT JOIN participant p ON p.kpj_number = s.kpj
         WHERE l.kind = s.kind AND l.instrument_hash = s.hash
           AND (${sets.map(([column]) => `l.${column}`).join(', ')}) IS DISTINCT FROM (${sets.map(([, value]) => value).join(', ')})
        RETURNING 1)
      SELECT count(*) AS n FROM changed`);
    const inserted = await insertNew(client, header, keys.current.id);
    return { inserted, updated, unchanged: total - inserted - updated - removed, removed, rekeyed, moves };
  },

  realRowsSql: `SELECT count(*) AS n FROM instrument_link l JOIN participant p ON p.id = l.participant_id
                 WHERE p.kpj_number <> ALL ($1::text[])`,
};

/**
 * The links of the file hashed under the previous key, moved to the current key's hash in place (migration 013):
 * same id, participant, status and issuer. A link of the same number already under the current key (made by a
 * build that inserted a second link during a rotation) shadows the old one for every lookup, which tries the
 * current key first: the old row is dead, and it is deleted so that the previous key can retire.
 */
async function rekey(client: Client, currentKeyId: string): Promise<number> {
  return countOf(client, `
    WITH shadowed AS (
      DELETE FROM instrument_link l USING stage s
       WHERE s.prev_hash IS NOT NULL AND l.kind = s.kind AND l.instrument_hash = s.prev_hash
         AND EXISTS (SELECT 1 FROM instrument_link c WHERE c.kind = s.kind AND c.instrument_hash = s.hash)
      RETURNING 1),
    moved AS (
      UPDATE instrument_link l SET instrument_hash = s.hash, key_id = $1::text
        FROM stage s
       WHERE s.prev_hash IS NOT NULL AND l.kind = s.kind AND l.instrument_hash = s.prev_hash
         AND NOT EXISTS (SELECT 1 FROM instrument_link c WHERE c.kind = s.kind AND c.instrument_hash = s.hash)
      RETURNING 1)
    SELECT (SELECT count(*) FROM shadowed) + (SELECT count(*) FROM moved) AS n`, currentKeyId);
}

async function insertNew(client: Client, header: ReadonlySet<string>, keyId: string): Promise<number> {
  return countOf(client, `
    WITH added AS (
      INSERT INTO instrument_link (kind, instrument_hash, key_id, last4, participant_id, link_status, issuer)
      SELECT s.kind, s.hash, $1::text, s.last4, p.id, coalesce(s.status, 'ACTIVE'), ${header.has('issuer') ? 's.issuer' : 'NULL'}
        FROM stage s JOIN participant p ON p.kpj_number = s.kpj
       WHERE s.status IS DISTINCT FROM 'REMOVED'
         AND NOT EXISTS (SELECT 1 FROM instrument_link l WHERE l.kind = s.kind AND l.instrument_hash = s.hash)
       ORDER BY s.line
      RETURNING 1)
    SELECT count(*) AS n FROM added`, keyId);
}
