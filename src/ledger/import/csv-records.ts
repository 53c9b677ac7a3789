import type { Readable } from 'node:stream';
import { parse, type Info } from 'csv-parse';
import type { RowError } from './errors.js';

/**
 * The records of a CSV file (UTF-8, a header row, RFC 4180 quoting) as column → value, each with the line it
 * starts on: csv-parse reports the line a record ends on, so the start is the end of the previous record plus
 * the empty lines skipped since. Streamed: one record at a time, with back-pressure from the consumer.
 */

export interface CsvRecord {
  readonly line: number;
  readonly values: ReadonlyMap<string, string>;
}

/** A record as read: its fields in header order. Staging makes the CsvRecord, in a worker for a big file. */
export interface CsvRow {
  readonly line: number;
  readonly fields: readonly string[];
}

export function recordOf(columns: readonly string[], row: CsvRow): CsvRecord {
  const values = new Map<string, string>();
  columns.forEach((column, i) => values.set(column, row.fields[i]!));
  return { line: row.line, values };
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

interface ParsedRecord {
  record: string[];
  info: Info;
}

export type CsvItem = { header: CsvHeader } | { row: CsvRow } | { rowError: RowError } | { fatal: RowError };

/** Yields the header first (as `header`), then every record (or its error when its field count is wrong); malformed CSV ends the stream with one error. */
export async function* csvRecords(
  input: Readable, shape: CsvFileShape,
): AsyncGenerator<CsvItem> {
  const parser = input.pipe(parse({ info: true, skip_empty_lines: true, relax_column_count: true, bom: true }));
  let header: string[] | undefined;
  let previousEnd = 0;
  let previousEmpty = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<ParsedRecord>) {
      const line = previousEnd + 1 + (info.empty_lines - previousEmpty);
      previousEnd = info.lines;
      previousEmpty = info.empty_lines;
      if (!header) {
        header = record;
        yield { header: { columns: header, errors: headerErrors(header, shape, line) } };
        continue;
      }
      if (record.length !== header.length) {
        yield { rowError: { line, column: undefined, reason: `${record.length} fields where the header has ${header.length}` } };
        continue;
      }
      yield { row: { line, fields: record } };
    }
  } catch (error) {
    // csv-parse's messages quote no field value, only positions (CSV_QUOTE_NOT_CLOSED, CSV_INVALID_CLOSING_QUOTE...).
    const code = (error as { code?: string }).code ?? 'CSV_INVALID';
    const at = (error as { lines?: number }).lines ?? previousEnd + 1;
    yield { fatal: { line: at, column: undefined, reason: `not valid CSV (${code}); reading stopped here` } };
    return;
  }
  if (!header) yield { fatal: { line: 1, column: undefined, reason: 'the file is empty: it needs a header row' } };
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
