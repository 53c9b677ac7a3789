/**
 * Errors of the data import. A message names a file, a line and a column, never a value: the values of these
 * files are card numbers, NIKs and contacts.
 */

/** One invalid row (or header): `FILE:LINE: column kpj: not 11 digits`. */
export interface RowError {
  readonly line: number;
  readonly column: string | undefined;
  readonly reason: string;
}

export type ImportErrorCode =
  /** The file has invalid rows: nothing of it was applied. */
  | 'IMPORT_INVALID_FILE'
  /** --initial on a ledger that already holds real data of that file's kind. */
  | 'IMPORT_NOT_EMPTY'
  /** The file could not be read. */
  | 'IMPORT_UNREADABLE';

export class ImportError extends Error {
  override readonly name = 'ImportError';
  constructor(readonly code: ImportErrorCode, message: string, readonly rowErrors: readonly RowError[] = [], readonly total = rowErrors.length) {
    super(message);
  }
}

/** The shown errors, as the CLI prints them. */
export const MAX_ERRORS_SHOWN = 20;

export function formatRowError(file: string, error: RowError): string {
  return `${file}:${error.line}: ${error.column ? `column ${error.column}: ` : ''}${error.reason}`;
}
