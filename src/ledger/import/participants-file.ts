import { maskEmail, maskLast4, normaliseEmail, normaliseMsisdn, normaliseNik, type Normalised } from '../../contacts/index.js';
import type { CopyValue } from './copy-text.js';
import { RowChecker, kpjProblem, oneOf, textProblem } from './fields.js';
import { countOf, repeatedKeyCheck, type FileKind } from './file-kind.js';

/**
 * participants.csv: `kpj,nik,name,status,msisdn,email` (specs/DATA-FILES.md). The key is kpj; an absent
 * column leaves that field unchanged, a blank value clears it (name and status cannot be blank). NIK, MSISDN
 * and e-mail are hashed here under the data key's `contact` purpose; only the hash, the key id and a masked
 * form are staged. During a rotation window the previous key's hash is staged too, and a contact stored under
 * it is rewritten under the current key (rekeyed).
 */

const STATUSES = ['ACTIVE', 'BLOCKED', 'CLOSED'] as const;

/** The contact columns: the staged hash column, the masked column, and how the value is normalised and masked. */
const CONTACTS = [
  { column: 'nik', normalise: normaliseNik, mask: maskLast4, masked: 'nik_last4' },
  { column: 'msisdn', normalise: normaliseMsisdn, mask: maskLast4, masked: 'msisdn_last4' },
  { column: 'email', normalise: normaliseEmail, mask: maskEmail, masked: 'email_masked' },
] as const satisfies readonly { column: string; normalise: (raw: string) => Normalised; mask: (v: string) => string; masked: string }[];

/** participant column ← staging expression, for the columns the file has. */
function assignments(header: ReadonlySet<string>): [string, string][] {
  const pairs: [string, string][] = [];
  if (header.has('name')) pairs.push(['name', 's.name']);
  if (header.has('status')) pairs.push(['membership_status', 's.status']);
  for (const contact of CONTACTS) {
    if (!header.has(contact.column)) continue;
    pairs.push([`${contact.column}_hash`, `s.${contact.column}_hash`]);
    pairs.push([`${contact.column}_key_id`, `CASE WHEN s.${contact.column}_hash IS NULL THEN NULL ELSE $1::text END`]);
    pairs.push([contact.masked, `s.${contact.masked}`]);
  }
  return pairs;
}

/** The columns a new participant's INSERT sets, and their values from staged row `s`. */
function insertColumns(header: ReadonlySet<string>): [columns: string, values: string] {
  const pairs = assignments(header);
  if (!header.has('status')) pairs.push(['membership_status', "'ACTIVE'"]);
  return [['kpj_number', ...pairs.map(([column]) => column)].join(', '), ['s.kpj', ...pairs.map(([, value]) => value)].join(', ')];
}

export const participantsFile: FileKind = {
  name: 'participants',
  shape: { known: ['kpj', 'nik', 'name', 'status', 'msisdn', 'email'], required: ['kpj'] },
  staging: `kpj char(11), name text, status text, nik_hash bytea, nik_prev_hash bytea, nik_last4 text,
            msisdn_hash bytea, msisdn_prev_hash bytea, msisdn_last4 text, email_hash bytea, email_prev_hash bytea, email_masked text`,

  stage(record, _header, keys) {
    const check = new RowChecker(record.line, record.values);
    const kpj = check.get('kpj', kpjProblem);
    const name = check.get('name', textProblem(100));
    const status = check.get('status', oneOf(STATUSES));
    const contacts: CopyValue[] = [];
    for (const contact of CONTACTS) {
      const raw = check.raw(contact.column);
      if (raw === undefined || raw === '') {
        contacts.push(null, null, null);
        continue;
      }
      const normalised = contact.normalise(raw);
      if (!normalised.ok) {
        check.fail(contact.column, normalised.reason);
        contacts.push(null, null, null);
        continue;
      }
      contacts.push(keys.current.hmac('contact', normalised.value), keys.previous?.hmac('contact', normalised.value) ?? null,
        contact.mask(normalised.value));
    }
    if (check.errors.length > 0) return { errors: check.errors };
    return { row: [kpj ?? null, name ?? null, status ?? null, ...contacts] };
  },

  checks(header) {
    return [
      repeatedKeyCheck('stage', ['kpj'], 'kpj', `'appears again (first on line ' || d.first || ')'`),
      ...(header.has('name') ? [] : [
        `SELECT s.line, 'name' AS "column", 'required for a new participant (the file has no name column)' AS reason
           FROM stage s WHERE NOT EXISTS (SELECT 1 FROM participant p WHERE p.kpj_number = s.kpj)`,
      ]),
    ];
  },

  async apply(client, header, keys, initial) {
    const key = keys.current;
    // First, so that a contact that only changed key is not counted as updated below.
    const rekeyed = initial || !keys.previous ? 0 : await rekey(client, header, key.id, keys.previous.id);
    const pairs = assignments(header);
    const updated = initial || pairs.length === 0 ? 0 : await countOf(client, `
      WITH changed AS (
        UPDATE participant p SET ${pairs.map(([column, value]) => `${column} = ${value}`).join(', ')}
          FROM stage s
         WHERE p.kpj_number = s.kpj
           AND (${pairs.map(([column]) => `p.${column}`).join(', ')}) IS DISTINCT FROM (${pairs.map(([, value]) => value).join(', ')})
        RETURNING 1)
      SELECT count(*) AS n FROM changed`, key.id);
    const [columns, values] = insertColumns(header);
    const inserted = await countOf(client, `
      WITH added AS (
        INSERT INTO participant (${columns})
        SELECT ${values} FROM stage s
         WHERE NOT EXISTS (SELECT 1 FROM participant p WHERE p.kpj_number = s.kpj)
         ORDER BY s.line
        RETURNING 1)
      SELECT count(*) AS n FROM added`, key.id);
    const total = await countOf(client, 'SELECT count(*) AS n FROM stage');
    return { inserted, updated, unchanged: total - inserted - updated, removed: 0, rekeyed, moves: [] };
  },

  // A KPJ the ledger holds (a demo one, or one repeated in the file: the check refuses the file then) is skipped,
  // as the whole file's NOT EXISTS skips it; a row without a name (a file without the column) is left to its check.
  initialSegment(header) {
    const [columns, values] = insertColumns(header);
    return `
      WITH added AS (
        INSERT INTO participant (${columns})
        SELECT ${values} FROM segment s WHERE s.name IS NOT NULL ORDER BY s.line
        ON CONFLICT (kpj_number) DO NOTHING
        RETURNING 1)
      SELECT count(*) AS n FROM added`;
  },

  realRowsSql: 'SELECT count(*) AS n FROM participant WHERE kpj_number <> ALL ($1::text[])',
};

/**
 * The participants whose NIK, MSISDN or e-mail in the file is stored under the previous key: the hash and key id
 * rewritten under the current key, in place. A contact column absent from the file cannot be rekeyed (its clear
 * value is not in the file); it keeps its hash and key id, which say which key made it.
 */
async function rekey(client: Parameters<FileKind['apply']>[0], header: ReadonlySet<string>, currentId: string, previousId: string): Promise<number> {
  const present = CONTACTS.map((contact) => contact.column).filter((column) => header.has(column));
  if (present.length === 0) return 0;
  const under = (column: string): string => `(p.${column}_key_id = $2 AND p.${column}_hash = s.${column}_prev_hash)`;
  const { rows } = await client.query<{ n: string }>(`
    WITH changed AS (
      UPDATE participant p SET ${present.map((column) => `
        ${column}_hash = CASE WHEN ${under(column)} THEN s.${column}_hash ELSE p.${column}_hash END,
        ${column}_key_id = CASE WHEN ${under(column)} THEN $1::text ELSE p.${column}_key_id END`).join(',')}
        FROM stage s
       WHERE p.kpj_number = s.kpj AND (${present.map(under).join(' OR ')})
      RETURNING 1)
    SELECT count(*) AS n FROM changed`, [currentId, previousId]);
  return Number(rows[0]?.n ?? 0);
}
