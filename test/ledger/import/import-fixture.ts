import { Readable } from 'node:stream';
import pg from 'pg';
import type { Pool } from 'pg';
import { FILE_KINDS, ImportError, runImport, type ImportSummary, type RowError } from '../../../src/ledger/import/index.js';
import { ledgerTypes } from '../../../src/ledger/pool.js';
import { IMPORTER_ROLE } from '../../../src/ledger/roles.js';
import type { KeyRing } from '../../../src/security/keys/index.js';
import { getTestDatabase, roleDatabaseUrl, scratchDatabase, TEST_KEYS } from '../../support/index.js';

/**
 * A fresh, migrated database (no demo data) and a pool on it as the importer role: each import test file gets
 * its own, so that marking it real, or filling it, touches no other test.
 */
export interface ImportFixture {
  admin: Pool;
  importer: Pool;
  /** Imports `csv` as `kind`: the summary, or the ImportError's row errors. */
  /**
   * `keys`: the ring to import with (a rotation window when it has a previous key); TEST_KEYS otherwise.
   * `workers`: staging worker threads (ImportOptions.workers).
   */
  load(kind: keyof typeof FILE_KINDS, csv: string, options?: LoadOptions): Promise<ImportSummary>;
  loadFailing(kind: keyof typeof FILE_KINDS, csv: string, options?: LoadOptions): Promise<RowError[]>;
  count(table: string): Promise<number>;
  drop(): Promise<void>;
}

export interface LoadOptions {
  dryRun?: boolean;
  keys?: KeyRing;
  workers?: number;
}

export async function importFixture(): Promise<ImportFixture> {
  const scratch = await scratchDatabase((await getTestDatabase()).pool);
  const url = new URL(await roleDatabaseUrl(IMPORTER_ROLE));
  url.pathname = `/${(scratch.pool.options.database as string)}`;
  const importer = new pg.Pool({ connectionString: url.toString(), types: ledgerTypes(), max: 3 });
  importer.on('error', () => undefined);
  const load = (kind: keyof typeof FILE_KINDS, csv: string, { keys = TEST_KEYS, ...options }: LoadOptions = {}): Promise<ImportSummary> =>
    runImport(importer, { kind: FILE_KINDS[kind], input: Readable.from([csv]), fileName: `${kind}.csv`, key: keys.current, previousKey: keys.previous, ...options });
  return {
    admin: scratch.pool,
    importer,
    load,
    async loadFailing(kind, csv, options) {
      const error = await load(kind, csv, options).then(() => undefined, (e: unknown) => e);
      if (!(error instanceof ImportError)) throw new Error(`expected an ImportError, got ${String(error)}`);
      return [...error.rowErrors];
    },
    async count(table) {
      const { rows } = await scratch.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      return rows[0]!.n;
    },
    async drop() {
      await importer.end();
      await scratch.drop();
    },
  };
}

/**
 * An import fixture made before the calling describe's tests and dropped after them: call it in the describe's
 * body. Its members read the fixture of the moment, so the returned object can be held from the start.
 */
export function useImportFixture(): ImportFixture {
  let fx: ImportFixture | undefined;
  before(async () => {
    fx = await importFixture();
  });
  after(() => fx?.drop());
  const current = (): ImportFixture => {
    if (!fx) throw new Error('the import fixture is made in the describe\'s before hook');
    return fx;
  };
  return {
    get admin() { return current().admin; },
    get importer() { return current().importer; },
    load: (...args) => current().load(...args),
    loadFailing: (...args) => current().loadFailing(...args),
    count: (table) => current().count(table),
    drop: () => current().drop(),
  };
}
