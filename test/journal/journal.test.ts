import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import type { Pool, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { maskPan } from '../../src/iso8583/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { JournalError } from '../../src/journal/errors.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import type { JournalEntry } from '../../src/journal/journal-entry.js';
import { requestDigest, type RequestDigest } from '../../src/journal/request-digest.js';
import type { SqlClient } from '../../src/journal/sql-client.js';
import { AtmClaims, inquiryKeyOf, originalKeyOf, storedAnswerOf } from '../../src/channels/atm/transaction-key.js';
import type { StoredResponse, TransactionKey } from '../../src/channels/atm/transaction-key.js';
import { ClaimStore } from '../../src/inquiry/index.js';
import { instrumentHash } from '../../src/ledger/index.js';
import {
  createTestPool, demo, DEMO_CARDS, expectedAdditionalAmounts, expectedParticipantData, expectThrows, getTestDatabase, sleep, TEST_KEYS, waitFor,
} from '../support/index.js';

const TEST_PANS = DEMO_CARDS;
const APPROVED: StoredResponse = {
  responseCode: '00',
  additionalAmounts: expectedAdditionalAmounts(demo.approved),
  additionalData: expectedParticipantData(demo.approved),
};

let terminalSequence = 0;
/** A key no other test (or earlier run against the same database) uses: the terminal ID is random. */
function freshKey(overrides: Partial<TransactionKey> = {}): TransactionKey {
  terminalSequence++;
  return {
    acquirerId: '99901',
    stan: String(terminalSequence % 1_000_000).padStart(6, '0'),
    transmissionAt: '1125103000',
    terminalId: randomBytes(4).toString('hex').toUpperCase(),
    ...overrides,
  };
}

function digestOf(content: string): RequestDigest {
  return requestDigest(TEST_KEYS, Buffer.from(content));
}

/** Counts the statements that reach the database. */
class CountingClient implements SqlClient {
  statements = 0;
  constructor(private readonly pool: Pool) {}
  query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>> {
    this.statements++;
    return this.pool.query<R>(text, values);
  }
}

/** Forwards to whichever pool is plugged in: lets a test take the database away and give it back. */
class SwitchableClient implements SqlClient {
  constructor(public target: Pool) {}
  query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>> {
    return this.target.query<R>(text, values);
  }
}

function store(client: SqlClient, instanceId = `test-${randomUUID()}`): AtmClaims {
  return new AtmClaims(new ClaimStore(client, { instanceId, logger: silentLogger() }));
}

/** What the switch does with an answer: make it durable with its journal row, then wake the waiters. */
async function answer(keys: AtmClaims, writer: JournalWriter, id: number, response: StoredResponse): Promise<void> {
  await writer.commit({ kind: 'request', channel: 'atm', receivedAt: new Date(), responseCode: response.responseCode, inquiryKeyId: id }, { inquiryKeyId: id, ...storedAnswerOf(response) });
  keys.recordResponse(id, response);
}

describe('journal: AtmClaims (PostgreSQL)', function () {
  let pool: Pool;
  let keys: AtmClaims;
  let writer: JournalWriter;

  before(async () => {
    pool = (await getTestDatabase()).pool;
    keys = store(pool);
    writer = new JournalWriter(pool, { instanceId: 'journal-test', logger: silentLogger() });
  });

  after(async () => {
    keys.close();
    await writer.close();
  });

  it('first claim is new, the same content again a retransmission, other content a duplicate', async () => {
    const key = freshKey();
    const first = await keys.claim(key, digestOf('request A'), '0200');
    expect(first.kind).to.equal('new');
    const again = await keys.claim(key, digestOf('request A'), '0201');
    expect(again).to.deep.include({ kind: 'retransmission', id: first.id, response: undefined });
    const other = await keys.claim(key, digestOf('request B'), '0200');
    expect(other).to.deep.equal({ kind: 'duplicate', id: first.id });
  });

  it('a retransmission gets the answer the durable commit stored, on any instance', async () => {
    const key = freshKey();
    const first = await keys.claim(key, digestOf('request'), '0200');
    await answer(keys, writer, first.id, APPROVED);
    expect(await keys.claim(key, digestOf('request'), '0201')).to.deep.include({ kind: 'retransmission', id: first.id, response: APPROVED });
    // Another instance knows nothing of this one's memory: the answer comes from the row.
    const other = store(pool);
    expect(await other.claim(key, digestOf('request'), '0201')).to.deep.include({ kind: 'retransmission', id: first.id, response: APPROVED });
    other.close();
  });

  it('keeps the first answer when a second one is committed for the same claim', async () => {
    const key = freshKey();
    const first = await keys.claim(key, digestOf('request'), '0200');
    await answer(keys, writer, first.id, APPROVED);
    await answer(keys, writer, first.id, { responseCode: '96' });
    const { rows } = await pool.query('SELECT outcome, body FROM inquiry_answer WHERE inquiry_key_id = $1', [first.id]);
    expect(rows[0]).to.deep.equal({ outcome: '00', body: { 54: APPROVED.additionalAmounts, 48: APPROVED.additionalData } });
    const journaled = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM journal WHERE inquiry_key_id = $1', [first.id]);
    expect(journaled.rows[0]?.n, 'both commits journaled').to.equal(2);
  });

  it('an unknown outcome (claimed, never answered) is taken over by exactly one of two instances', async () => {
    const key = freshKey();
    const dead = store(pool, 'instance-that-died');
    const original = await dead.claim(key, digestOf('lost'), '0200');
    dead.close();
    const [a, b] = [store(pool), store(pool)];
    try {
      const [ra, rb] = await Promise.all([a.claim(key, digestOf('lost'), '0201'), b.claim(key, digestOf('lost'), '0201')]);
      expect(ra).to.deep.include({ kind: 'retransmission', id: original.id, response: undefined, claimedBy: 'instance-that-died' });
      if (ra.kind !== 'retransmission' || rb.kind !== 'retransmission') throw new Error('not retransmissions');
      const read = { kind: 'CARD' as const, hashes: [instrumentHash(TEST_KEYS.current, '6040990000000001')] };
      const takes = await Promise.all([a.reclaim(original.id, ra.claimedBy, read), b.reclaim(original.id, rb.claimedBy, read)]);
      expect(takes.filter((t) => t.won)).to.have.length(1);
      const winner = takes.find((t) => t.won);
      expect(winner).to.deep.include({ won: true });
      expect(winner && winner.won && winner.lookup).to.include({ kind: 'found', kpj: '12000000001' });
      // Once answered, nobody can take it over again.
      await answer(a, writer, original.id, APPROVED);
      const { rows } = await pool.query<{ instance_id: string }>('SELECT instance_id FROM inquiry_key WHERE id = $1', [original.id]);
      expect(await a.reclaim(original.id, rows[0]!.instance_id)).to.deep.equal({ won: false });
    } finally {
      a.close();
      b.close();
    }
  });

  it('the same key twice in one batch: the first wins, the second is a retransmission or a duplicate', async () => {
    const client = new CountingClient(pool);
    const batched = store(client);
    const same = freshKey();
    const differ = freshKey();
    const results = await Promise.all([
      batched.claim(same, digestOf('x'), '0200'),
      batched.claim(same, digestOf('x'), '0200'),
      batched.claim(differ, digestOf('y'), '0200'),
      batched.claim(differ, digestOf('z'), '0200'),
    ]);
    expect(client.statements).to.equal(1);
    expect(results.map((r) => r.kind)).to.deep.equal(['new', 'retransmission', 'new', 'duplicate']);
    expect(results[1]!.id).to.equal(results[0]!.id);
    expect(results[3]!.id).to.equal(results[2]!.id);
    await batched.close();
  });

  it('two instances over two pools racing for the same keys: exactly one new per key', async () => {
    const secondPool = await createTestPool();
    await secondPool.query('SELECT 1'); // connected, so both instances really start together
    const a = store(pool, 'instance-a');
    const b = store(secondPool, 'instance-b');
    try {
      for (let round = 0; round < 3; round++) {
        const raced = Array.from({ length: 60 }, () => freshKey());
        // B sees the keys in the opposite order: without a shared lock order the two batches would deadlock.
        const fromA = raced.map((key, i) => a.claim(key, digestOf(`k${i}`), '0200'));
        const fromB = raced.map((_, i) => raced.length - 1 - i).map((i) => {
          // Even keys race with the same content (retransmission), odd ones with other content (duplicate).
          const content = i % 2 === 0 ? `k${i}` : `k${i}-other`;
          return b.claim(raced[i]!, digestOf(content), '0200').then((result) => ({ i, result }));
        });
        const resultsA = await Promise.all(fromA);
        const resultsB = new Map((await Promise.all(fromB)).map(({ i, result }) => [i, result]));
        for (let i = 0; i < raced.length; i++) {
          const pair = [resultsA[i]!, resultsB.get(i)!];
          // Who wins depends on timing; what must hold is one winner and the right kind of loser.
          expect(pair.map((r) => r.kind).sort()).to.deep.equal(i % 2 === 0 ? ['new', 'retransmission'] : ['duplicate', 'new']);
          expect(pair[0]!.id).to.equal(pair[1]!.id);
        }
      }
    } finally {
      await a.close();
      await b.close();
      await secondPool.end();
    }
  });

  it('a claim that waited on another instance\'s uncommitted insert reads that row once it commits', async () => {
    const key = freshKey();
    const client = new CountingClient(pool);
    const waiting = store(client);
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      const { rows } = await other.query<{ id: bigint | string }>(
        `INSERT INTO inquiry_key (channel, requester, idem_key, request_digest, request_type, instance_id)
         VALUES ($1, $2, $3, $4, '0200', 'other-instance') RETURNING id`,
        [inquiryKeyOf(key).channel, inquiryKeyOf(key).requester, inquiryKeyOf(key).key, digestOf('theirs').value],
      );
      const { rows: [backend] } = await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const claim = waiting.claim(key, digestOf('theirs'), '0200');
      // Commit only once the claim's INSERT ... ON CONFLICT is waiting on this open transaction.
      await waitFor(async () => {
        const blocked = await pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [backend!.pid],
        );
        return blocked.rows[0]!.n > 0;
      }, { what: 'the claim to wait on the open transaction', timeoutMs: 5_000, intervalMs: 20 });
      await other.query('COMMIT');
      // The row was committed after the claim statement's snapshot: it takes the second, separate read.
      expect(await claim).to.deep.include({ kind: 'retransmission', id: Number(rows[0]!.id), response: undefined });
      expect(client.statements).to.equal(2);
    } finally {
      other.release();
      await waiting.close();
    }
  });

  it('a claim naming an instrument brings the ledger read from the same statement, for new requests only', async () => {
    const client = new CountingClient(pool);
    const batched = store(client);
    const card = (pan: string) => ({ kind: 'CARD' as const, hashes: [instrumentHash(TEST_KEYS.current, pan)] });
    const [budi, unlinked, bare] = [freshKey(), freshKey(), freshKey()];
    const [withLookup, notLinked, without] = await Promise.all([
      batched.claim(budi, digestOf('budi'), '0200', card(demo.approvedCard)),
      batched.claim(unlinked, digestOf('nobody'), '0200', card(demo.unlinkedCard)),
      batched.claim(bare, digestOf('bare'), '0200'),
    ]);
    expect(client.statements).to.equal(1);
    expect(withLookup).to.deep.include({ kind: 'new' });
    expect(withLookup.kind === 'new' && withLookup.lookup).to.deep.include({
      kind: 'found', kpj: demo.approved.kpj, name: demo.approved.name, linkStatus: 'ACTIVE', membershipStatus: 'ACTIVE', asOf: demo.asOf,
    });
    expect(withLookup.kind === 'new' && withLookup.lookup?.kind === 'found' && withLookup.lookup.balanceSen).to.equal(demo.approved.balanceSen);
    expect(notLinked).to.deep.equal({ kind: 'new', id: notLinked.id, lookup: { kind: 'not-linked' } });
    expect(without).to.deep.equal({ kind: 'new', id: without.id });
    // A retransmission is answered from the original: no ledger answer comes with it.
    const again = await batched.claim(budi, digestOf('budi'), '0201', card(demo.approvedCard));
    expect(again).to.deep.include({ kind: 'retransmission', id: withLookup.id, response: undefined });
    await batched.close();
  });

  it('runs every claim statement through the guard it is given (the ledger breaker in the switch)', async () => {
    let guarded = 0;
    const keysWithGuard = new AtmClaims(new ClaimStore(pool, {
      instanceId: `test-${randomUUID()}`, logger: silentLogger(),
      guard: (work) => {
        guarded++;
        return work();
      },
    }));
    await Promise.all([keysWithGuard.claim(freshKey(), digestOf('a'), '0200'), keysWithGuard.claim(freshKey(), digestOf('b'), '0200')]);
    expect(guarded).to.equal(1);
    const refusing = new AtmClaims(new ClaimStore(pool, {
      instanceId: `test-${randomUUID()}`, logger: silentLogger(), guard: () => Promise.reject(new Error('breaker is open')),
    }));
    await expectThrows(() => refusing.claim(freshKey(), digestOf('c'), '0200'), JournalError, 'JOURNAL_STORE_UNAVAILABLE');
    await Promise.all([keysWithGuard.close(), refusing.close()]);
  });

  it('200 concurrent claims take a handful of statements, not 200', async () => {
    const client = new CountingClient(pool);
    const batched = store(client);
    const many = Array.from({ length: 200 }, () => freshKey());
    const results = await Promise.all(many.map((key, i) => batched.claim(key, digestOf(`r${i}`), '0200')));
    expect(results.every((r) => r.kind === 'new')).to.equal(true);
    expect(new Set(results.map((r) => r.id)).size).to.equal(200);
    expect(client.statements).to.be.at.most(4);
    // Replaying all 200: still batched, and every one is recognised.
    const before = client.statements;
    const replays = await Promise.all(many.map((key, i) => batched.claim(key, digestOf(`r${i}`), '0201')));
    expect(replays.every((r, i) => r.kind === 'retransmission' && r.id === results[i]!.id)).to.equal(true);
    expect(client.statements - before).to.be.at.most(4);
    await batched.close();
  });

  it('awaitResponse: wakes when this instance answers the original, polls when another does, gives up in time', async () => {
    const unansweredBefore = keys.unansweredClaims;
    const local = freshKey();
    const original = await keys.claim(local, digestOf('slow'), '0200');
    const repeat = await keys.claim(local, digestOf('slow'), '0201');
    expect(repeat).to.deep.include({ kind: 'retransmission', id: original.id, response: undefined });
    const waiting = keys.awaitResponse(original.id, 2_000);
    setTimeout(() => keys.recordResponse(original.id, APPROVED), 20);
    expect(await waiting).to.deep.equal(APPROVED);

    const remote = freshKey();
    const other = store(pool);
    const remoteOriginal = await other.claim(remote, digestOf('elsewhere'), '0200');
    const remoteRepeat = await keys.claim(remote, digestOf('elsewhere'), '0201');
    expect(remoteRepeat.kind).to.equal('retransmission');
    const polling = keys.awaitResponse(remoteOriginal.id, 2_000);
    setTimeout(() => void answer(other, writer, remoteOriginal.id, { responseCode: '14' }), 30);
    expect(await polling).to.deep.equal({ responseCode: '14', additionalAmounts: undefined, additionalData: undefined });
    other.close();

    const never = await keys.claim(freshKey(), digestOf('never answered'), '0200');
    const started = Date.now();
    expect(await keys.awaitResponse(never.id, 60)).to.equal(undefined);
    expect(Date.now() - started).to.be.within(50, 500);
    keys.abandon(never.id);
    expect(keys.unansweredClaims).to.equal(unansweredBefore);
  });

  it('asynchronous commit stays inside the statement: the pooled session keeps its setting', async () => {
    const single = await createTestPool({ max: 1 });
    const own = store(single);
    const writer = new JournalWriter(single, { instanceId: `writer-${randomUUID()}`, logger: silentLogger() });
    try {
      const before = (await single.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")).rows[0]!.s;
      const claimed = await own.claim(freshKey(), digestOf('async'), '0200');
      await answer(own, writer, claimed.id, APPROVED);
      writer.record({ kind: 'network', channel: 'atm', receivedAt: new Date() });
      await writer.flush();
      const after = (await single.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")).rows[0]!.s;
      expect(after).to.equal(before);
    } finally {
      own.close();
      await writer.close();
      await single.end();
    }
  });

  it('claim rejects with JOURNAL_STORE_UNAVAILABLE when the database cannot be reached', async () => {
    const unreachable = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 200 });
    const cut = store(unreachable);
    try {
      const outcomes = await Promise.allSettled([cut.claim(freshKey(), digestOf('a'), '0200'), cut.claim(freshKey(), digestOf('b'), '0200')]);
      for (const outcome of outcomes) {
        expect(outcome.status).to.equal('rejected');
        expect((outcome as PromiseRejectedResult).reason).to.be.instanceOf(JournalError).with.property('code', 'JOURNAL_STORE_UNAVAILABLE');
      }
    } finally {
      cut.close();
      await unreachable.end();
    }
  });

  it('abandons, with a warning, a claim the pipeline forgot to answer', async () => {
    const forgetful = new AtmClaims(new ClaimStore(pool, { instanceId: `test-${randomUUID()}`, logger: silentLogger(), unansweredTimeoutMs: 40 }));
    try {
      const claimed = await forgetful.claim(freshKey(), digestOf('forgotten'), '0200');
      const waiting = forgetful.awaitResponse(claimed.id, 5_000);
      expect(forgetful.unansweredClaims).to.equal(1);
      expect(await waiting).to.equal(undefined); // woken by the sweep, long before its own timeout
      expect(forgetful.unansweredClaims).to.equal(0);
    } finally {
      await forgetful.close();
    }
  });

  it('markReversed finds the original by (32, 11, 7, 41) from field 90 and keeps the first mark', async () => {
    const key = freshKey({ acquirerId: '99901', stan: '424242', transmissionAt: '1125103001' });
    const original = await keys.claim(key, digestOf('to be reversed'), '0200');
    const advice = {
      field90: '0200' + key.stan + key.transmissionAt + '00000099901' + '00000000000',
      acquirerId: '99901',
      terminalId: key.terminalId,
    };
    expect(await keys.markReversed(originalKeyOf(advice), 'RRN000000001'))
      .to.deep.equal({ found: true, id: original.id, alreadyReversed: false });
    expect(await keys.markReversed(originalKeyOf(advice), 'RRN000000002'))
      .to.deep.equal({ found: true, id: original.id, alreadyReversed: true });
    const { rows } = await pool.query('SELECT reversed_at IS NOT NULL AS reversed, reversal_ref FROM inquiry_key WHERE id = $1', [original.id]);
    expect(rows[0]).to.deep.equal({ reversed: true, reversal_ref: 'RRN000000001' });

    expect(await keys.markReversed({ ...key, terminalId: 'NOSUCHTM' }, 'RRN000000003')).to.deep.equal({ found: false });
  });
});

describe('journal: JournalWriter (PostgreSQL)', function () {
  let pool: Pool;

  before(async () => {
    pool = (await getTestDatabase()).pool;
  });

  async function rowsOf(instanceId: string): Promise<number> {
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM journal WHERE instance_id = $1', [instanceId]);
    return rows[0]!.n;
  }

  function entry(i: number): JournalEntry {
    return {
      kind: i % 10 === 0 ? 'retransmission' : 'request',
      channel: 'atm',
      partnerId: 'demo',
      requestMti: '0200',
      responseMti: '0210',
      stan: String(i).padStart(6, '0'),
      transmissionAt: '1125103000',
      terminalId: 'ATM00001',
      rrn: `R${String(i).padStart(11, '0')}`,
      acquirerId: '99901',
      maskedPan: maskPan(TEST_PANS[i % TEST_PANS.length]!),
      processingCode: '310000',
      responseCode: '00',
      receivedAt: new Date(),
      respondedAt: new Date(),
      latencyMicros: 850 + i,
      inquiryKeyId: i,
      connectionId: 'c1',
      remoteAddress: '127.0.0.1:40000',
    };
  }

  it('1,000 records then close(): 1,000 rows, in a few multi-row statements', async () => {
    const instanceId = `writer-${randomUUID()}`;
    const client = new CountingClient(pool);
    const writer = new JournalWriter(client, { instanceId, logger: silentLogger() });
    for (let i = 0; i < 1_000; i++) writer.record(entry(i));
    expect(writer.queueDepth).to.equal(1_000); // record() only queues
    await writer.close();
    expect(await rowsOf(instanceId)).to.equal(1_000);
    expect(writer.queueDepth).to.equal(0);
    expect(client.statements).to.be.at.most(4);
    const { rows } = await pool.query(
      `SELECT kind, masked_pan, latency_us, inquiry_key_id, rrn FROM journal WHERE instance_id = $1 AND stan = '000010'`, [instanceId],
    );
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ kind: 'retransmission', masked_pan: '604099******0027', latency_us: 860, rrn: 'R00000000010' });
  });

  it('keeps entries queued while the database is unreachable and writes them once it is back', async () => {
    const instanceId = `writer-${randomUUID()}`;
    const unreachable = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 200 });
    const client = new SwitchableClient(unreachable);
    const writer = new JournalWriter(client, {
      instanceId, logger: silentLogger(), flushIntervalMs: 10, retryInitialDelayMs: 10, retryMaxDelayMs: 50,
    });
    try {
      for (let i = 0; i < 50; i++) writer.record(entry(i));
      await sleep(100);
      expect(writer.queueDepth).to.equal(50);
      await expectThrows(() => writer.flush(), Error, 'ECONNREFUSED');

      client.target = pool;
      for (let i = 50; i < 60; i++) writer.record(entry(i));
      await waitFor(async () => (await rowsOf(instanceId)) === 60, { what: 'the 60 entries in the journal', timeoutMs: 5_000, intervalMs: 20 });
      expect(writer.queueDepth).to.equal(0);
      expect(writer.droppedCount).to.equal(0);
    } finally {
      await writer.close();
      await unreachable.end();
    }
  });
});
