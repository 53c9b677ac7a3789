import type { Readable } from 'node:stream';
import { Parser } from 'csv-parse';
import type { RowError } from './errors.js';

/**
 * The records of a CSV file (UTF-8, a header row, RFC 4180 quoting), each with the line it starts on, read in
 * batches: csv-parse reports the line a record ends on, so the start is the end of the previous record plus
 * the empty lines skipped since. Streamed, with back-pressure from the consumer.
 */

/** A record as read: its fields in header order. Staging reads it by column name (recordOf), in a worker for a big file. */
export interface CsvRow {
  readonly line: number;
  readonly fields: readonly string[];
}

/** A record's values by column name. */
export interface CsvRecord {
  readonly line: number;
  readonly values: { get(column: string): string | undefined };
}

/** The position of each column in a row, made once per batch: a record is then a view, not a Map of its own. */
export function columnIndex(columns: readonly string[]): ReadonlyMap<string, number> {
  return new Map(columns.map((column, i) => [column, i]));
}

export function recordOf(index: ReadonlyMap<string, number>, row: CsvRow): CsvRecord {
  return {
    line: row.line,
    values: {
      get(column) {
        const i = index.get(column);
        return i === undefined ? undefined : row.fields[i];
      },
    },
  };
}

export interface CsvHeader {
  readonly columns: readonly string[];
  readonly errors: readonly RowError[];
}

export interface CsvFileShape {
  /** Every column the file may have. */
  readonly known: readonly string[];
  /** Columns the header must have (the key). */
  readonly required: readonly string[];
}

/** A record with where csv-parse was when it ended (its `info.lines` and `info.empty_lines` at that moment). */
interface ParsedRecord {
  fields: string[];
  lines: number;
  emptyLines: number;
}

/**
 * csv-parse's Parser, pushing the records of each input chunk as one array, each with the two line counters
 * the importer needs. `info: true` would copy the parser's whole info object twice for every record (15 % of
 * the staging CPU, measured with --cpu-prof), and an object-mode stream item per record costs a promise each
 * in `for await`. A record's counters are read when the parser pushes it, which is when `info: true` would
 * have copied them. A chunk's records are pushed before an error in it is reported, as they were one by one.
 */
class BatchingParser extends Parser {
  #batch: ParsedRecord[] = [];

  override push(record: unknown): boolean {
    if (record === null) {
      this.#flush();
      return super.push(null);
    }
    this.#batch.push({ fields: record as string[], lines: this.info.lines, emptyLines: this.info.empty_lines });
    return true;
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    super._transform(chunk, encoding, (error?: Error | null) => {
      this.#flush();
      callback(error);
    });
  }

  #flush(): void {
    if (this.#batch.length === 0) return;
    super.push(this.#batch);
    this.#batch = [];
  }
}

export type CsvItem = { header: CsvHeader } | { rows: CsvRow[]; rowErrors: RowError[] } | { fatal: RowError };

/**
 * Yields the header first (as `header`), then the records in batches of one input chunk (`rows`, with the errors
 * of the records whose field count is wrong); malformed CSV ends the stream with one error.
 */
export async function* csvRecords(
  input: Readable, shape: CsvFileShape,
): AsyncGenerator<CsvItem> {
  const parser = input.pipe(new BatchingParser({ skip_empty_lines: true, relax_column_count: true, bom: true }));
  let header: string[] | undefined;
  let previousEnd = 0;
  let previousEmpty = 0;
  // csv-parse counts a CRLF inside a quoted value as two lines (its \r and its \n each end a "line"): the
  // excess so far, taken off its counter so that a CRLF file reports the same lines as an LF one.
  let crlfExcess = 0;
  try {
    for await (const batch of parser as AsyncIterable<ParsedRecord[]>) {
      const rows: CsvRow[] = [];
      const rowErrors: RowError[] = [];
      for (const { fields, lines, emptyLines } of batch) {
        const line = previousEnd + 1 + (emptyLines - previousEmpty);
        crlfExcess += quotedCrlfs(fields);
        previousEnd = lines - crlfExcess;
        previousEmpty = emptyLines;
        if (!header) {
          header = fields;
          yield { header: { columns: header, errors: headerErrors(header, shape, line) } };
        } else if (fields.length !== header.length) {
          rowErrors.push({ line, column: undefined, reason: `${fields.length} fields where the header has ${header.length}` });
        } else {
          rows.push({ line, fields });
        }
      }
      if (rows.length > 0 || rowErrors.length > 0) yield { rows, rowErrors };
    }
  } catch (error) {
    // csv-parse's messages quote no field value, only positions (CSV_QUOTE_NOT_CLOSED, CSV_INVALID_CLOSING_QUOTE...).
    const code = (error as { code?: string }).code ?? 'CSV_INVALID';
    // Where csv-parse gave up, by its own counter less the CRLF excess of the records read so far (records
    // of the failing chunk may be dropped with the error, so the last one read is no surer a guide).
    const reported = (error as { lines?: number }).lines;
    const at = reported === undefined ? previousEnd + 1 : reported - crlfExcess;
    yield { fatal: { line: at, column: undefined, reason: `not valid CSV (${code}); reading stopped here` } };
    return;
  }
  if (!header) yield { fatal: { line: 1, column: undefined, reason: 'the file is empty: it needs a header row' } };
}

/** CRLFs inside the values of one record (only a quoted value can hold one). */
function quotedCrlfs(fields: readonly string[]): number {
  let count = 0;
  for (const field of fields) {
    for (let at = field.indexOf('\r\n'); at !== -1; at = field.indexOf('\r\n', at + 2)) count++;
  }
  return count;
}

function headerErrors(header: readonly string[], shape: CsvFileShape, line: number): RowError[] {
  const errors: RowError[] = [];
  const seen = new Set<string>();
  for (const column of header) {
    if (!shape.known.includes(column)) errors.push({ line, column, reason: `unknown column (this file has ${shape.known.join(', ')})` });
    else if (seen.has(column)) errors.push({ line, column, reason: 'appears twice in the header' });
    seen.add(column);
  }
  for (const column of shape.required) {
    if (!seen.has(column)) errors.push({ line, column, reason: 'missing from the header (required)' });
  }
  return errors;
}
