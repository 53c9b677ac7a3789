/**
 * One row of PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes, bytea in hex.
 * Only hashes, masked forms and non-secret fields are ever encoded here (the importer hashes first).
 * Built by concatenation, and a text is escaped only when it holds a character to escape (rare in these
 * files): this runs for every field of a 10-million-row load.
 */
export type CopyValue = string | number | bigint | Buffer | null;

const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;

/** The row of the file's line `line` (the staging table's first column), then `values`. */
export function copyRow(line: number, values: readonly CopyValue[]): string {
  let text = String(line);
  for (const value of values) text += `\t${copyField(value)}`;
  return `${text}\n`;
}

function copyField(value: CopyValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') return SPECIAL.test(value) ? value.replace(SPECIALS, escape) : value;
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`;
  return String(value);
}

function escape(c: string): string {
  return c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r';
}
