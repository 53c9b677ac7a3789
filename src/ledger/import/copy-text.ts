/**
 * One row of PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes, bytea in hex.
 * Only hashes, masked forms and non-secret fields are ever encoded here (the importer hashes first).
 */
export type CopyValue = string | number | bigint | Buffer | null;

export function copyRow(values: readonly CopyValue[]): string {
  return `${values.map(copyField).join('\t')}\n`;
}

function copyField(value: CopyValue): string {
  if (value === null) return '\\N';
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`;
  if (typeof value !== 'string') return String(value);
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}
