import type { Readable } from 'node:stream';
import { csvRecords, type CsvRow } from './csv-records.js';
import type { RowError } from './errors.js';
import type { FileKind } from './file-kind.js';
import type { StagedBatch } from './stage-batch.js';
import { BatchStager, type StagerKeys } from './stage-pool.js';

/** Rows per COPY chunk: big enough to amortise the stream and a worker's message, small enough to keep memory flat. */
const CHUNK_ROWS = 2_000;

/**
 * A data file read and staged as COPY text chunks, in the file's order: the importer's first step, and what
 * scripts/bench/import-stage.ts times without a database. Row errors go to `onError` (any order: the importer
 * sorts them by line); after the chunks, `header` and `rows` say what was read.
 */
export class FileStaging {
  header: ReadonlySet<string> = new Set();
  rows = 0;
  readonly #stager: BatchStager;
  readonly #inFlight: Promise<StagedBatch>[] = [];

  constructor(private readonly kind: FileKind, keys: StagerKeys, private readonly onError: (error: RowError) => void,
    private readonly onProgress?: (rows: number) => void, workers?: number) {
    this.#stager = new BatchStager(kind, keys, workers);
  }

  async *chunks(input: Readable): AsyncGenerator<string> {
    let columns: readonly string[] = [];
    let batch: CsvRow[] = [];
    for await (const item of csvRecords(input, this.kind.shape)) {
      if ('header' in item) {
        columns = item.header.columns;
        this.header = new Set(columns);
        item.header.errors.forEach(this.onError);
        if (item.header.errors.length > 0) return; // a wrong header makes every row's reading wrong
        continue;
      }
      if ('fatal' in item) {
        this.onError(item.fatal);
        break;
      }
      item.rowErrors.forEach(this.onError);
      this.rows += item.rows.length + item.rowErrors.length;
      for (const row of item.rows) batch.push(row);
      if (batch.length >= CHUNK_ROWS) {
        this.#submit(columns, batch);
        batch = [];
        this.onProgress?.(this.rows);
        if (this.#inFlight.length >= this.#stager.depth) yield await this.#takeOldest();
      }
    }
    if (batch.length > 0) this.#submit(columns, batch);
    while (this.#inFlight.length > 0) yield await this.#takeOldest();
    this.onProgress?.(this.rows);
  }

  /** Stops the staging workers; call it once the chunks are consumed or abandoned. */
  close(): Promise<void> {
    return this.#stager.close();
  }

  #submit(columns: readonly string[], batch: CsvRow[]): void {
    const staged = this.#stager.stage(columns, batch);
    staged.catch(() => undefined); // awaited in order by #takeOldest; a failure is thrown there, not reported as unhandled
    this.#inFlight.push(staged);
  }

  async #takeOldest(): Promise<string> {
    const staged = await this.#inFlight.shift()!;
    staged.errors.forEach(this.onError);
    return staged.copy;
  }
}
