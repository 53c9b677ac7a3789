import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { registerDataKey } from '../data-keys.js';
import { markReal } from '../deployment.js';
import { DEMO_PARTICIPANTS } from '../demo-data.js';
import type { DataKey } from '../../security/keys/index.js';
import { ImportError, MAX_ERRORS_SHOWN, type RowError } from './errors.js';
import { countOf, type ApplyCounts, type FileKind, type StageKeys } from './file-kind.js';
import { insertInSegments } from './initial-segments.js';
import { FileStaging } from './staged-chunks.js';

/**
 * The import of one data file (specs/DATA-FILES.md), in three steps inside the caller's transaction:
 * 1. stream: csv-parse → check and hash each row (a pool of worker threads for a big file, stage-pool.ts) →
 *    COPY into a TEMP staging table. Only hashes, masked
 *    forms and non-secret fields are staged; a TEMP table is never WAL-logged. Memory stays flat: one COPY
 *    chunk at a time, with back-pressure from the server, and at most MAX_ERRORS_SHOWN errors kept;
 * 2. check: set-based queries over the staged rows (duplicates, unknown participants, conflicting postings);
 * 3. apply: a few set-based statements. Readers see the ledger before the file or after it (MVCC).
 * Any invalid row: ImportError, and the caller rolls the whole file back. Step 1 reads nothing of the ledger
 * and takes no lock; steps 2 and 3 hold the import locks (lockImportsFor: a participants file alone, a links
 * file beside a postings file). --initial participants insert as they stage (initial-segments.ts), so they
 * take the lock first.
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
  /** Another import holds the ledger: this one waits for it to commit. */
  onWaiting?: () => void;
}

export interface ImportSummary extends ApplyCounts {
  file: string;
  kind: FileKind['name'];
  rows: number;
  ms: number;
  /** Where the time went: reading, hashing and COPY; waiting for another import; the set-based checks; the apply. */
  phasesMs: { stage: number; wait: number; check: number; apply: number };
}

/** A daily file waits at most this long for a row lock (a `link block` in flight holds one for milliseconds). */
const IMPORT_LOCK_TIMEOUT = '60s';
/** The ledger's import lock (lockImportsFor): the key, and after it one per kind of file. */
const IMPORT_LOCK_KEY = 0x4a48_5449; // "JHTI"

/** A file read, checked row by row, hashed and COPYed into its TEMP staging table: step 1, waiting for steps 2 and 3. */
interface StagedFile {
  readonly options: ImportOptions;
  readonly header: ReadonlySet<string>;
  readonly rows: number;
  readonly errors: ErrorList;
  readonly started: number;
  readonly staged: number;
  /** --initial by segments (FileKind.initialSegment): the rows already inserted, under the import lock. */
  readonly segmentsInserted?: number;
}

/**
 * Step 1 in `client`'s open transaction. It reads nothing of the ledger and takes no lock, so a file can be
 * staged while another import is checked and applied (runImports); except --initial by segments, which
 * inserts as it stages, and so takes the lock first.
 */
async function stageFile(client: PoolClient, options: ImportOptions): Promise<StagedFile> {
  const started = Date.now();
  const { kind } = options;
  await client.query('DROP TABLE IF EXISTS pg_temp.stage');
  await client.query(`CREATE TEMP TABLE stage (line integer NOT NULL, ${kind.staging}) ON COMMIT DROP`);
  const errors = new ErrorList();
  const keys = { current: options.key, previous: options.previousKey };
  const staging = new FileStaging(kind, keys, (error) => errors.add(error), options.onProgress, options.workers);
  const segment = options.initial ? kind.initialSegment?.bind(kind) : undefined;
  let segmentsInserted: number | undefined;
  try {
    if (segment) {
      await beginApply(client, options);
      await client.query('SELECT import_bulk_begin($1)', [kind.name]);
      // The header is read with the first chunk, before the first segment is inserted.
      segmentsInserted = await insertInSegments(client, staging.chunks(options.input), () => countOf(client, segment(staging.header), options.key.id));
    } else {
      await pipeline(Readable.from(staging.chunks(options.input), { objectMode: false }), client.query(copyFrom('COPY stage FROM STDIN')));
    }
  } finally {
    await staging.close();
  }
  options.onStaged?.(staging.rows);
  await client.query('ANALYZE stage');
  return { options, header: staging.header, rows: staging.rows, errors, started, staged: Date.now(), ...(segment ? { segmentsInserted } : {}) };
}

/**
 * Before the first write: the import locks (lockImportsFor), the data key registered under it (two imports
 * registering the same key would otherwise wait on each other's row), and for --initial, the check that the
 * ledger is empty.
 */
async function beginApply(client: PoolClient, options: ImportOptions): Promise<void> {
  await lockImportsFor(client, options.kind.name, options.onWaiting);
  await registerDataKey(client, options.key);
  if (options.initial) await assertInitialAllowed(client, options.kind);
}

/**
 * Steps 2 and 3 in the same transaction, once no other import is being applied: the checks, then the apply
 * (for --initial by segments, only the indexes: its rows are in).
 * Any invalid row: ImportError, and the caller rolls the whole file back.
 */
async function applyStaged(client: PoolClient, file: StagedFile): Promise<ImportSummary> {
  const { options, header, errors, segmentsInserted } = file;
  const { kind } = options;
  if (segmentsInserted === undefined) await beginApply(client, options);
  const locked = Date.now();
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
  let counts: ApplyCounts;
  if (segmentsInserted === undefined) {
    const keys = { current: options.key, previous: options.previousKey } satisfies StageKeys;
    if (options.initial) await client.query('SELECT import_bulk_begin($1)', [kind.name]);
    counts = await kind.apply(client, header, keys, options.initial ?? false);
  } else {
    const staged = await countOf(client, 'SELECT count(*) AS n FROM stage');
    counts = { inserted: segmentsInserted, updated: 0, unchanged: staged - segmentsInserted, removed: 0, rekeyed: 0, moves: [] };
  }
  // --initial: the secondary indexes and foreign keys dropped for the load are built now, by a sort.
  if (options.initial) await client.query('SELECT import_bulk_end($1)', [kind.name]);
  const done = Date.now();
  return {
    ...counts, file: options.fileName, kind: kind.name, rows: file.rows, ms: done - file.started,
    phasesMs: { stage: file.staged - file.started, wait: locked - file.staged, check: checked - locked, apply: done - checked },
  };
}

/** The three steps in `client`'s open transaction (the caller commits, or rolls back on an error). */
export async function importInto(client: PoolClient, options: ImportOptions): Promise<ImportSummary> {
  return applyStaged(client, await stageFile(client, options));
}

export interface RunImportOptions extends ImportOptions {
  /** Roll back at the end: the file is checked and the summary printed, nothing is applied. */
  dryRun?: boolean;
}

/** A file staged in a transaction of its own, waiting for its turn: `apply` checks, applies and commits it. */
export interface StagedImport {
  /** `beforeCommit`: awaited once the file is applied; if it rejects, the file is rolled back with that error. */
  apply(beforeCommit?: () => Promise<void>): Promise<ImportSummary>;
  /** Rolls the staging back: the file is not imported. */
  abandon(): Promise<void>;
}

/**
 * One file, one transaction: the data key is registered and the demo marker cleared in it (an import brings
 * real data), so the file, its key and the marker commit together or not at all.
 */
export async function stageImport(pool: Pool, options: RunImportOptions): Promise<StagedImport> {
  const client = await pool.connect();
  const end = async (clean: boolean): Promise<void> => {
    if (!clean) await client.query('ROLLBACK').catch(() => undefined);
    client.release(!clean);
  };
  let file: StagedFile;
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = '${IMPORT_LOCK_TIMEOUT}'`);
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query("SET LOCAL work_mem = '128MB'");
    file = await stageFile(client, options);
  } catch (error) {
    await end(false);
    throw error;
  }
  return {
    async apply(beforeCommit) {
      let clean = false;
      try {
        const summary = await applyStaged(client, file);
        await beforeCommit?.();
        if (!options.dryRun) await markReal(client, `data imported: ${options.kind.name}`);
        await client.query(options.dryRun ? 'ROLLBACK' : 'COMMIT');
        clean = true;
        return summary;
      } finally {
        await end(clean);
      }
    },
    abandon: () => end(false),
  };
}

export async function runImport(pool: Pool, options: RunImportOptions): Promise<ImportSummary> {
  return (await stageImport(pool, options)).apply();
}

/**
 * Waits for any other import (or demo seed) to commit; held until this transaction ends. Another import may
 * hold it for minutes (a national file), so the wait is not bounded by the rows' lock_timeout.
 */
export async function lockImports(client: PoolClient, onWaiting?: () => void): Promise<void> {
  await waitForLocks(client, [{ key: IMPORT_LOCK_KEY, shared: false }], onWaiting);
}

/**
 * The locks a file's checks and apply hold until its transaction ends. A participants file (and the demo seed,
 * lockImports) takes the ledger alone: links and postings are checked against the participants. A links file
 * and a postings file read the participants and write tables of their own, so they share the ledger, and each
 * kind goes one file at a time (two postings files could interleave their checks and their applies).
 */
async function lockImportsFor(client: PoolClient, kind: FileKind['name'], onWaiting?: () => void): Promise<void> {
  if (kind === 'participants') return lockImports(client, onWaiting);
  await waitForLocks(client, [{ key: IMPORT_LOCK_KEY, shared: true }, { key: IMPORT_LOCK_KEY + KIND_LOCK_OFFSET[kind], shared: false }], onWaiting);
}

const KIND_LOCK_OFFSET = { links: 1, postings: 2 } as const;

async function waitForLocks(client: PoolClient, locks: readonly { key: number; shared: boolean }[], onWaiting?: () => void): Promise<void> {
  const fn = (shared: boolean, attempt: boolean): string => `pg_${attempt ? 'try_' : ''}advisory_xact_lock${shared ? '_shared' : ''}`;
  const free: boolean[] = [];
  for (const { key, shared } of locks) {
    const { rows: [taken] } = await client.query<{ locked: boolean }>(`SELECT ${fn(shared, true)}($1) AS locked`, [key]);
    free.push(taken?.locked === true);
  }
  if (free.every(Boolean)) return;
  onWaiting?.();
  const { rows: [setting] } = await client.query<{ timeout: string }>("SELECT current_setting('lock_timeout') AS timeout");
  await client.query("SELECT set_config('lock_timeout', '0', true)");
  for (const [i, { key, shared }] of locks.entries()) {
    if (!free[i]) await client.query(`SELECT ${fn(shared, false)}($1)`, [key]);
  }
  await client.query("SELECT set_config('lock_timeout', $1, true)", [setting?.timeout ?? '0']);
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
