import { RowChecker, kpjProblem, oneOf, textProblem } from './fields.js';
import { countOf, repeatedKeyCheck, type FileKind } from './file-kind.js';

/**
 * postings.csv: `source_ref,kpj,kind,amount_sen,value_date` (specs/DATA-FILES.md). A posting is immutable, so
 * every column is required. The same source_ref with the same content is skipped; with other content it is
 * an error. OPENING is a participant's initial balance: at most one, 0 or more (0 posts nothing).
 */

const KINDS = ['OPENING', 'CONTRIBUTION', 'DEVELOPMENT', 'CLAIM', 'CORRECTION'] as const;
const AMOUNT = /^-?[0-9]{1,18}$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

function dateProblem(value: string): string | undefined {
  const match = DATE.exec(value);
  if (!match) return 'not a date (YYYY-MM-DD)';
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().startsWith(value) && Number(match[1]) >= 1900 ? undefined : 'not a calendar date';
}

/** The sign each kind allows (the ledger's CHECKs, said before the database says it less clearly). */
function amountProblem(kind: string | undefined, amount: bigint): string | undefined {
  if (kind === 'OPENING') return amount < 0n ? 'an OPENING is 0 or more' : undefined;
  if (amount === 0n) return 'must not be 0';
  if (kind === 'CONTRIBUTION' && amount < 0n) return 'a CONTRIBUTION is more than 0';
  if (kind === 'CLAIM' && amount > 0n) return 'a CLAIM is less than 0';
  return undefined;
}

export const postingsFile: FileKind = {
  name: 'postings',
  shape: { known: ['source_ref', 'kpj', 'kind', 'amount_sen', 'value_date'], required: ['source_ref', 'kpj', 'kind', 'amount_sen', 'value_date'] },
  staging: 'source_ref text, kpj char(11), kind text, amount_sen bigint, value_date date',

  stage(record) {
    const check = new RowChecker(record.line, record.values);
    const sourceRef = check.get('source_ref', textProblem(100));
    const kpj = check.get('kpj', kpjProblem);
    const kind = check.get('kind', oneOf(KINDS));
    const amount = check.get('amount_sen', (value) => (AMOUNT.test(value) ? undefined : 'not a whole number of sen'));
    const valueDate = check.get('value_date', dateProblem);
    if (amount !== undefined) {
      const reason = amountProblem(kind, BigInt(amount));
      if (reason) check.fail('amount_sen', reason);
    }
    if (check.errors.length > 0) return { errors: check.errors };
    return { row: [sourceRef!, kpj!, kind!, amount!, valueDate!] };
  },

  // Each staged posting resolved once against the ledger (its participant, and the posting already stored under
  // its source_ref, if any): the checks and the apply read this table, not the ledger's big ones again.
  async prepare(client) {
    await client.query('DROP TABLE IF EXISTS pg_temp.resolved');
    await client.query(`
      CREATE TEMP TABLE resolved ON COMMIT DROP AS
      SELECT s.line, s.source_ref, s.kpj, s.kind, s.amount_sen, s.value_date, p.id AS participant_id,
             j.id IS NOT NULL AS posted,
             j.id IS NOT NULL AND (jp.kpj_number, j.kind, j.amount_sen, j.value_date) IS DISTINCT FROM (s.kpj, s.kind, s.amount_sen, s.value_date) AS conflicting
        FROM stage s
        LEFT JOIN participant p ON p.kpj_number = s.kpj
        LEFT JOIN jht_posting j ON j.source_ref = s.source_ref
        LEFT JOIN participant jp ON jp.id = j.participant_id`);
    await client.query('ANALYZE resolved');
  },

  checks() {
    return [
      repeatedKeyCheck('resolved', ['source_ref'], 'source_ref', `'appears again (first on line ' || d.first || ')'`),
      `SELECT line, 'kpj' AS "column", 'no such participant (import participants.csv first)' AS reason
         FROM resolved WHERE participant_id IS NULL`,
      `SELECT line, 'source_ref' AS "column", 'already posted with other content' AS reason FROM resolved WHERE conflicting`,
      repeatedKeyCheck("(SELECT line, kpj FROM resolved WHERE kind = 'OPENING')", ['kpj'], 'kind',
        `'a second OPENING for this participant (first on line ' || d.first || ')'`),
      `SELECT r.line, 'kind' AS "column", 'this participant already has an OPENING' AS reason
         FROM resolved r JOIN jht_posting j ON j.participant_id = r.participant_id AND j.kind = 'OPENING' AND j.source_ref <> r.source_ref
        WHERE r.kind = 'OPENING'`,
      // The file's new postings must not take a balance below zero; the last line of that participant is named.
      // Only a participant whose new postings sum below zero can go below it (a balance is never negative): those
      // few are looked up, not every balance the file touches (a daily file of contributions has none).
      `SELECT n.line, 'amount_sen' AS "column", 'the postings take this participant''s balance below 0' AS reason
         FROM (SELECT participant_id, max(line) AS line, sum(amount_sen) AS amount_sen FROM resolved
                WHERE NOT posted GROUP BY participant_id HAVING sum(amount_sen) < 0) n
         JOIN jht_balance b ON b.participant_id = n.participant_id
        WHERE b.balance_sen + n.amount_sen < 0`,
    ];
  },

  async apply(client) {
    const total = await countOf(client, 'SELECT count(*) AS n FROM resolved');
    const inserted = await countOf(client, `
      WITH added AS (
        INSERT INTO jht_posting (participant_id, kind, amount_sen, value_date, source_ref)
        SELECT participant_id, kind, amount_sen, value_date, source_ref FROM resolved
         WHERE amount_sen <> 0 AND NOT posted
         ORDER BY line
        RETURNING 1)
      SELECT count(*) AS n FROM added`);
    return { inserted, updated: 0, unchanged: total - inserted, removed: 0, rekeyed: 0, moves: [] };
  },

  realRowsSql: `SELECT count(*) AS n FROM jht_posting j JOIN participant p ON p.id = j.participant_id
                 WHERE p.kpj_number <> ALL ($1::text[])`,
};
