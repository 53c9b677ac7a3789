import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { Pool } from 'pg';
import { LedgerReader, LedgerUnavailableError } from '../../src/ledger/index.js';
import type { DatabaseHandle, LedgerReaderOptions } from '../../src/ledger/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createTestPool, expectThrows, getTestDatabase, sleep, TEST_KEYS, waitFor } from '../support/index.js';

const log = silentLogger();

describe('ledger: LedgerReader (the breaker around every round trip)', function () {
  this.timeout(60_000);
  let db: DatabaseHandle;
  let pool: Pool;
  let readers: LedgerReader[] = [];

  before(async () => {
    db = await getTestDatabase();
  });
  beforeEach(async () => {
    pool = await createTestPool({ max: 2 });
  });
  afterEach(async () => {
    await Promise.all(readers.map((reader) => reader.close()));
    readers = [];
    await pool.end();
  });

  function reader(options: Partial<LedgerReaderOptions> = {}): LedgerReader {
    const created = new LedgerReader({ keys: TEST_KEYS, log, ...options });
    readers.push(created);
    return created;
  }

  const ping = (): Promise<unknown> => pool.query('SELECT 1');
  const failing = (): Promise<never> => pool.query('SELECT * FROM no_such_table_for_the_breaker').then(() => {
    throw new Error('the query should have failed');
  });

  it('round trips count for the breaker, and are refused at once while it is open', async () => {
    const ledger = reader({ volumeThreshold: 3, resetTimeoutMs: 60_000 });
    expect(await ledger.guard(() => Promise.resolve('claimed'))).to.equal('claimed');
    for (let i = 0; i < 3; i++) await ledger.guard(failing).catch(() => undefined);
    expect(ledger.state).to.equal('open');
    let checkouts = 0;
    pool.on('acquire', () => checkouts++);
    let ran = false;
    const started = process.hrtime.bigint();
    await expectThrows(() => ledger.guard(async () => {
      ran = true;
    }), Error, 'EOPENBREAKER');
    expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.below(20);
    expect(ran).to.equal(false);
    expect(checkouts).to.equal(0);
  });

  it('lets one trial through after resetTimeout (half-open) and closes again when it succeeds', async () => {
    const ledger = reader({ volumeThreshold: 3, resetTimeoutMs: 300 });
    for (let i = 0; i < 3; i++) await ledger.guard(failing).catch(() => undefined);
    expect(ledger.state).to.equal('open');
    await sleep(350);
    expect(ledger.state).to.equal('half-open');
    await ledger.guard(ping);
    expect(ledger.state).to.equal('closed');
  });

  it('fails fast while the server is stopped and recovers, same reader, once it is back', async function () {
    if (!db.embedded) this.skip(); // DATABASE_URL: we cannot stop someone else's server
    const ledger = reader({ volumeThreshold: 2, resetTimeoutMs: 300 });
    await ledger.guard(ping);

    await db.pauseServer();
    try {
      const codes: unknown[] = [];
      for (let i = 0; i < 4; i++) {
        const started = Date.now();
        const error = await ledger.guard(ping).then(() => undefined, (e: unknown) => e);
        expect(error, 'a round trip to a stopped server').to.be.instanceOf(Error);
        expect(Date.now() - started).to.be.below(1000); // refused connections, no wait for a timeout
        codes.push((error as { code?: unknown }).code);
      }
      expect(codes.at(-1)).to.equal('EOPENBREAKER');
      // A killed switch may leave postmaster.pid naming a live, unrelated process: start must cope.
      await writeFile(path.join(db.dataDir!, 'postmaster.pid'), `${process.pid}\n`);
    } finally {
      await db.resumeServer();
    }

    await waitFor(() => ledger.guard(ping).then(() => true, () => false), { what: 'the breaker to let a round trip through again', timeoutMs: 5_000, intervalMs: 100 });
    expect(ledger.state).to.equal('closed');
    // The shared pool recovers too: later test files use it.
    expect((await db.pool.query('SELECT 1 AS ok')).rows).to.deep.equal([{ ok: 1 }]);
  });

  it('refuses round trips once closed', async () => {
    const ledger = reader();
    await ledger.close();
    const error = await expectThrows(() => ledger.guard(ping), LedgerUnavailableError, 'LEDGER_UNAVAILABLE');
    expect(error.reason).to.equal('breaker-open');
  });
});
