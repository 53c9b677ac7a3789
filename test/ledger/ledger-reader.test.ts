import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import type { Pool, PoolClient } from 'pg';
import { LedgerReader, LedgerUnavailableError } from '../../src/ledger/index.js';
import type { BreakerState, DatabaseHandle, LedgerReaderOptions, LedgerUnavailableReason } from '../../src/ledger/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createTestPool, demo, expectThrows, getTestDatabase, sleep, TEST_KEYS, waitFor } from '../support/index.js';

const CARD = demo.approvedCard;
const log = silentLogger();

describe('ledger: LedgerReader (breaker, time budget, outages)', function () {
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
    const created = new LedgerReader(pool, { keys: TEST_KEYS, log, ...options });
    readers.push(created);
    return created;
  }

  it('sends the lookups of one event-loop turn as a single query', async () => {
    const ledger = reader();
    let checkouts = 0;
    pool.on('acquire', () => checkouts++);
    const cards = [demo.approvedCard, demo.secondCard, demo.unlinkedCard, demo.blockedCard];
    const results = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => ledger.lookupByCard(cards[i % cards.length]!)),
      ledger.lookupByAccount(demo.account),
    ]);
    expect(checkouts).to.equal(1);
    expect(results.map((r) => (r.kind === 'found' ? r.kpj : r.kind)).slice(0, 4))
      .to.deep.equal([demo.approved.kpj, demo.second.kpj, 'not-linked', demo.blocked.kpj]);
    expect(results.at(-1)).to.include({ kind: 'found', kpj: demo.approved.kpj });
  });

  it('fails a lookup that misses its budget with reason timeout, and discards the stuck connection', async () => {
    const ledger = reader({ timeoutMs: 100, volumeThreshold: 100 });
    await ledger.lookupByCard(CARD); // warm: connection open, statement prepared
    await withLedgerLocked(async () => {
      const started = Date.now();
      await expectUnavailable(ledger.lookupByCard(CARD), 'timeout');
      expect(Date.now() - started).to.be.within(90, 1000); // generous: 2 shared cores

      await sleep(50); // pg's own query_timeout fires just after the breaker's
      expect(pool.totalCount, 'connections still busy with abandoned queries').to.equal(0);
      await expectUnavailable(ledger.lookupByCard(CARD), 'timeout');
    });
    // The next lookup opens a new connection while the blocked backends finish: allow a retry or two.
    expect(await eventually(() => ledger.lookupByCard(CARD))).to.include({ kind: 'found' });
    expect(ledger.state).to.equal('closed');
  });

  it('holds at most maxConcurrentQueries connections when the database stalls, and keeps each lookup\'s own budget', async () => {
    const ledger = reader({ timeoutMs: 300, maxConcurrentQueries: 1, volumeThreshold: 100 });
    await ledger.lookupByCard(CARD);
    await withLedgerLocked(async () => {
      const first = timed(ledger.lookupByCard(CARD));
      await sleep(150);
      // Queued behind the stuck query; sent when it gives up, with what is left of its own 300 ms.
      const second = timed(ledger.lookupByCard(CARD));
      const third = timed(ledger.lookupByAccount(demo.account));
      await sleep(50);
      expect(pool.totalCount).to.be.at.most(1);
      const results = await Promise.all([first, second, third]);
      for (const { error, ms } of results) {
        expect(error).to.include({ code: 'LEDGER_UNAVAILABLE', reason: 'timeout' });
        expect(ms).to.be.within(280, 700); // its own budget, not the 150 ms wait plus a fresh 300 ms
      }
    });
  });

  it('opens after repeated failures, refuses at once without touching the pool, then recovers by itself', async () => {
    const ledger = reader({ timeoutMs: 80, volumeThreshold: 3, resetTimeoutMs: 400 });
    const transitions: BreakerState[] = [];
    ledger.onStateChange((state) => transitions.push(state));
    await withLedgerLocked(async () => {
      for (let i = 0; i < 3; i++) await expectUnavailable(ledger.lookupByCard(CARD), 'timeout');
      expect(ledger.state).to.equal('open');

      let checkouts = 0;
      pool.on('acquire', () => checkouts++);
      const started = process.hrtime.bigint();
      await expectUnavailable(ledger.lookupByCard(CARD), 'breaker-open');
      expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.below(20);
      expect(checkouts).to.equal(0);
    });
    await sleep(450);
    expect(ledger.state).to.equal('half-open');
    // The trial lookup may itself miss the 80 ms budget on a loaded runner (new connection): then the
    // breaker re-opens and tries again after resetTimeout, which is the behaviour under test too.
    expect(await eventually(() => ledger.lookupByCard(CARD))).to.include({ kind: 'found', kpj: demo.approved.kpj });
    expect(ledger.state).to.equal('closed');
    expect(transitions.slice(0, 2)).to.deep.equal(['open', 'half-open']);
    expect(transitions.at(-1)).to.equal('closed');
  });

  it('guard: other round trips of the inquiry path count for the breaker, and are refused while it is open', async () => {
    const ledger = reader({ volumeThreshold: 3, resetTimeoutMs: 60_000 });
    expect(await ledger.guard(() => Promise.resolve('claimed'))).to.equal('claimed');
    const failing = () => Promise.reject(new Error('connection refused'));
    for (let i = 0; i < 3; i++) await ledger.guard(failing).catch(() => undefined);
    expect(ledger.state).to.equal('open');
    let ran = false;
    await expectThrows(() => ledger.guard(async () => {
      ran = true;
    }), Error, 'EOPENBREAKER');
    expect(ran).to.equal(false);
    await expectUnavailable(ledger.lookupByCard(CARD), 'breaker-open');
  });

  it('fails fast while the server is stopped and recovers, same reader, once it is back', async function () {
    if (!db.embedded) this.skip(); // DATABASE_URL: we cannot stop someone else's server
    const ledger = reader({ timeoutMs: 250, volumeThreshold: 2, resetTimeoutMs: 300 });
    expect(await ledger.lookupByCard(CARD)).to.include({ kind: 'found' });

    await db.pauseServer();
    try {
      const reasons: LedgerUnavailableReason[] = [];
      for (let i = 0; i < 4; i++) {
        const started = Date.now();
        const error = await expectThrows(() => ledger.lookupByCard(CARD), LedgerUnavailableError, 'LEDGER_UNAVAILABLE');
        expect(Date.now() - started).to.be.below(400); // the 250 ms budget, plus slack for 2 shared cores
        reasons.push(error.reason);
      }
      expect(reasons[0]).to.be.oneOf(['database-error', 'timeout']);
      expect(reasons.at(-1)).to.equal('breaker-open');
      // A killed switch may leave postmaster.pid naming a live, unrelated process: start must cope.
      await writeFile(path.join(db.dataDir!, 'postmaster.pid'), `${process.pid}\n`);
    } finally {
      await db.resumeServer();
    }

    const result = await eventually(() => ledger.lookupByCard(CARD));
    expect(result).to.include({ kind: 'found', kpj: demo.approved.kpj, balanceSen: demo.approved.balanceSen });
    expect(ledger.state).to.equal('closed');
    // The shared pool recovers too: later test files use it.
    expect((await db.pool.query('SELECT 1 AS ok')).rows).to.deep.equal([{ ok: 1 }]);
  });

  it('warmUp opens a connection and prepares the statement, outside the breaker', async () => {
    const ledger = reader();
    await ledger.warmUp();
    expect(pool.totalCount).to.equal(1);
    expect(ledger.state).to.equal('closed');
  });

  it('refuses lookups once closed', async () => {
    const ledger = reader();
    await ledger.close();
    await expectUnavailable(ledger.lookupByCard(CARD), 'breaker-open');
  });

  /** Holds an ACCESS EXCLUSIVE lock on participant: every lookup blocks until `body` is done. */
  async function withLedgerLocked(body: () => Promise<void>): Promise<void> {
    const locker: PoolClient = await db.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE participant IN ACCESS EXCLUSIVE MODE');
      await body();
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
  }
});

/** Retries `attempt` until it resolves (the breaker needs resetTimeout between trials), for up to 5 s. */
async function eventually<T>(attempt: () => Promise<T>): Promise<T> {
  const outcome: { value?: T; error?: unknown } = {};
  await waitFor(async () => {
    try {
      outcome.value = await attempt();
      return true;
    } catch (error) {
      outcome.error = error;
      return false;
    }
  }, { what: () => `the lookup to succeed (last error: ${String(outcome.error)})`, timeoutMs: 5_000, intervalMs: 100 });
  return outcome.value as T;
}

async function expectUnavailable(lookup: Promise<unknown>, reason: LedgerUnavailableReason): Promise<void> {
  const error = await expectThrows(() => lookup, LedgerUnavailableError, 'LEDGER_UNAVAILABLE');
  expect(error.reason).to.equal(reason);
}

async function timed(lookup: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await lookup.then(() => undefined, (e: unknown) => e);
  return { error, ms: performance.now() - started };
}
