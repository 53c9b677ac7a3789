import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { registerDataKey } from '../data-keys.js';
import { markReal } from '../deployment.js';
import { DEMO_PARTICIPANTS } from '../demo-data.js';
import type { DataKey } from '../../security/keys/index.js';
import { ImportError, MAX_ERRORS_SHOWN, type RowError } from './errors.js';
import type { ApplyCounts, FileKind, StageKeys } from './file-kind.js';
import { FileStaging } from './staged-chunks.js';

/**
 * The import of one data file (specs/DATA-FILES.md), in three steps inside the caller's transaction:
 * 1. stream: csv-parse → check and hash each row (a pool of worker threads for a big file, stage-pool.ts) →
 *    COPY into a TEMP staging table. Only hashes, masked
 *    forms and non-secret fields are staged; a TEMP table is never WAL-logged. Memory stays flat: one COPY
 *    chunk at a time, with back-pressure from the server, and at most MAX_ERRORS_SHOWN errors kept;
 * 2. check: set-based queries over the staged rows (duplicates, unknown participants, conflicting postings);
 * 3. apply: a few set-based statements. Readers see the ledger before the file or after it (MVCC).
 * Any invalid row: ImportError, and the caller rolls the whole file back.
 */

export interface ImportOptions {
  kind: FileKind;
  input: Readable;
  /** How errors name the file. */
  fileName: string;
  key: DataKey;
  /**
   * The previous data key, during a rotation window only (KeyRing.previous): what the file finds hashed under
   * it is rewritten under `key` in place and counted as rekeyed, never added a second time.
   */
  previousKey?: DataKey | undefined;
  /** Staging worker threads for a file of more than one batch (default: the cores but two, up to 4; 0: none). */
  workers?: number;
  /** Bulk mode for the first load: no comparison with existing rows (the ledger holds none of this kind). */
  initial?: boolean;
  /** Called every chunk with the rows read so far. */
  onProgress?: (rows: number) => void;
  /** After staging, before the checks: the caller's progress bar ends here. */
  onStaged?: (rows: number) => void;
}

export interface ImportSummary extends ApplyCounts {
  file: string;
  kind: FileKind['name'];
  rows: number;
  ms: number;
  /** Where the time went: reading, hashing and COPY; the set-based checks; the apply. */
  phasesMs: { stage: number; check: number; apply: number };
}

/** A daily file waits at most this long for a row lock (a `link block` in flight holds one for milliseconds). */
const IMPORT_LOCK_TIMEOUT = '60s';
/** One import at a time: two files applied at once could interleave their checks and their applies. */
const IMPORT_LOCK_KEY = 0x4a48_5449; // "JHTI"

/** Imports one file in `client`'s open transaction (the caller commits, or rolls back on an error). */
export async function importInto(client: PoolClient, options: ImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const { kind } = options;
  const keys = { current: options.key, previous: options.previousKey } satisfies StageKeys;
  await client.query('DROP TABLE IF EXISTS pg_temp.stage');
  await client.query(`CREATE TEMP TABLE stage (line integer NOT NULL, ${kind.staging}) ON COMMIT DROP`);
  if (options.initial) await assertInitialAllowed(client, kind);

  const errors = new ErrorList();
  const staging = new FileStaging(kind, keys, (error) => errors.add(error), options.onProgress, options.workers);
  try {
    await pipeline(Readable.from(staging.chunks(options.input), { objectMode: false }), client.query(copyFrom('COPY stage FROM STDIN')));
  } finally {
    await staging.close();
  }
  const { header, rows } = staging;
  options.onStaged?.(rows);
  await client.query('ANALYZE stage');
  const staged = Date.now();
  await kind.prepare?.(client);

  for (const sql of kind.checks(header)) {
    const { rows: found } = await client.query<RowError & { total: string }>(
      `SELECT line, "column", reason, count(*) OVER () AS total FROM (${sql}) c ORDER BY line LIMIT ${MAX_ERRORS_SHOWN}`);
    errors.addCounted(found, Number(found[0]?.total ?? 0));
  }
  if (errors.total > 0) {
    throw new ImportError('IMPORT_INVALID_FILE', `${options.fileName}: ${errors.total} invalid row(s): nothing of the file was applied`,
      errors.shown(), errors.total);
  }
  const checked = Date.now();
  // --initial: the table's secondary indexes and foreign keys are built after the load (migration 011).
  if (options.initial) await client.query('SELECT import_bulk_begin($1)', [kind.name]);
  const counts = await kind.apply(client, header, keys, options.initial ?? false);
  if (options.initial) await client.query('SELECT import_bulk_end($1)', [kind.name]);
  const ms = Date.now() - started;
  return { ...counts, file: options.fileName, kind: kind.name, rows, ms, phasesMs: { stage: staged - started, check: checked - staged, apply: Date.now() - checked } };
}

export interface RunImportOptions extends ImportOptions {
  /** Roll back at the end: the file is checked and the summary printed, nothing is applied. */
  dryRun?: boolean;
}

/**
 * One file, one transaction: the data key is registered and the demo marker cleared in it (an import brings
 * real data), so the file, its key and the marker commit together or not at all.
 */
export async function runImport(pool: Pool, options: RunImportOptions): Promise<ImportSummary> {
  const client = await pool.connect();
  let clean = false;
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = '${IMPORT_LOCK_TIMEOUT}'`);
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query("SET LOCAL work_mem = '128MB'");
    await lockImports(client);
    await registerDataKey(client, options.key);
    const summary = await importInto(client, options);
    if (!options.dryRun) await markReal(client, `data imported: ${options.kind.name}`);
    await client.query(options.dryRun ? 'ROLLBACK' : 'COMMIT');
    clean = true;
    return summary;
  } finally {
    if (!clean) await client.query('ROLLBACK').catch(() => undefined);
    client.release(!clean);
  }
}

/** Waits for any other import (or demo seed) to commit; held until this transaction ends. */
export async function lockImports(client: PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK_KEY]);
}

async function assertInitialAllowed(client: PoolClient, kind: FileKind): Promise<void> {
  const { rows } = await client.query<{ n: string }>(kind.realRowsSql, [DEMO_PARTICIPANTS.map((p) => p.kpj)]);
  const held = Number(rows[0]?.n ?? 0);
  if (held > 0) {
    throw new ImportError('IMPORT_NOT_EMPTY', `--initial is for the first load of ${kind.name}: the ledger already holds ${held} of them ` +
      '(beyond the demo data); import the file without --initial');
  }
}

/** The first MAX_ERRORS_SHOWN errors by line, and how many there are in all. */
class ErrorList {
  total = 0;
  #kept: RowError[] = [];

  add(error: RowError): void {
    this.addCounted([error], 1);
  }

  addCounted(errors: readonly RowError[], total: number): void {
    this.total += total;
    this.#kept.push(...errors.map((e) => ({ line: Number(e.line), column: e.column ?? undefined, reason: e.reason })));
    if (this.#kept.length > MAX_ERRORS_SHOWN * 4) this.#kept = this.shown();
  }

  shown(): RowError[] {
    return [...this.#kept].sort((a, b) => a.line - b.line).slice(0, MAX_ERRORS_SHOWN);
  }
}
