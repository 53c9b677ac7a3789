import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { demo, getTestDatabase, startTestIssuer, startTestRest, useTestRest, waitFor, type TestIssuer, type TestRest } from '../../support/index.js';

const LIMITS = { clientRequestsPerSecond: 10_000, clientBurst: 10_000, participantRequestsPerMinute: 100_000, participantBurst: 10_000 };
const REASON = { code: 'CLAIM-PROCESSING', ticketId: 'TCK-9' };
const staffClaims = { client_id: 'counter-1', sub: 'staff-0007', scope: 'jht:balance:any' };

describe('channels/rest: Idempotency-Key', function () {
  this.timeout(60_000);
  const rest = useTestRest({ ledger: { timeoutMs: 3_000 }, channels: { rest: { limits: LIMITS } } } as never);

  it('a repeat gets the same answer with the same reference, journaled as a retransmission', async () => {
    const token = await rest.issuer.token(staffClaims);
    const key = randomUUID();
    const first = await rest.api.inquire({ kpj: demo.approved.kpj, reason: REASON }, { token, headers: { 'idempotency-key': key } });
    const again = await rest.api.inquire({ kpj: demo.approved.kpj, reason: REASON }, { token: await rest.issuer.token(staffClaims), headers: { 'idempotency-key': key } });
    expect(first.status).to.equal(200);
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(first.body);
    const { rows } = await (await getTestDatabase()).pool.query<{ kind: string }>('SELECT kind FROM journal WHERE reference = $1 ORDER BY id', [first.body.reference]);
    expect(rows.map((r) => r.kind)).to.deep.equal(['request', 'retransmission']);
  });

  it('a decided refusal is kept too: a repeat of a 404 is the same 404', async () => {
    const token = await rest.issuer.token(staffClaims);
    const key = randomUUID();
    const first = await rest.api.inquire({ kpj: '19999999998', reason: REASON }, { token, headers: { 'idempotency-key': key } });
    const again = await rest.api.inquire({ kpj: '19999999998', reason: REASON }, { token, headers: { 'idempotency-key': key } });
    expect([first.status, again.status]).to.deep.equal([404, 404]);
    expect(again.body.reference).to.equal(first.body.reference);
  });

  it('the same key with another body is 422 idempotency-key-reused; another client\'s same key is its own', async () => {
    const key = randomUUID();
    const token = await rest.issuer.token(staffClaims);
    expect((await rest.api.inquire({ kpj: demo.approved.kpj, reason: REASON }, { token, headers: { 'idempotency-key': key } })).status).to.equal(200);
    const other = await rest.api.inquire({ kpj: demo.second.kpj, reason: REASON }, { token, headers: { 'idempotency-key': key } });
    expect(other.status).to.equal(422);
    expect(other.body).to.include({ type: 'urn:jht-switch:problem:idempotency-key-reused' });
    const otherClient = await rest.api.inquire({ kpj: demo.second.kpj, reason: REASON }, {
      token: await rest.issuer.token({ ...staffClaims, client_id: 'callcentre-1' }), headers: { 'idempotency-key': key },
    });
    expect(otherClient.status).to.equal(200);
  });

  it('a repeat while the first is still being processed is 409; the first then answers 200', async () => {
    const owner = await (await getTestDatabase()).pool.connect();
    const key = randomUUID();
    const token = await rest.issuer.token(staffClaims);
    let first: Promise<Awaited<ReturnType<TestRest['inquire']>>> | undefined;
    try {
      // The ledger read waits behind this lock, so the first request stays in flight.
      await owner.query('BEGIN');
      await owner.query('LOCK TABLE jht_balance IN ACCESS EXCLUSIVE MODE');
      first = rest.api.inquire({ kpj: demo.approved.kpj, reason: REASON }, { token, headers: { 'idempotency-key': key } });
      await waitFor(async () => ((await owner.query("SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'jht_balance'::regclass AND NOT granted")).rows[0] as { n: number }).n > 0,
        { what: 'the first request waiting for the ledger', timeoutMs: 5_000 });
      const second = await rest.api.inquire({ kpj: demo.approved.kpj, reason: REASON }, { token, headers: { 'idempotency-key': key } });
      expect(second.status).to.equal(409);
      expect(second.body).to.include({ type: 'urn:jht-switch:problem:idempotency-in-flight' });
    } finally {
      await owner.query('ROLLBACK');
      owner.release();
    }
    expect((await first!).status).to.equal(200);
  });
});

describe('channels/rest: rate limits per client and per participant (429 + Retry-After)', function () {
  this.timeout(60_000);
  let issuer: TestIssuer;

  before(async () => {
    issuer = await startTestIssuer();
  });
  after(async () => issuer?.close());

  it('per client: past its burst a client gets 429 with Retry-After; another client does not', async () => {
    const api = await startTestRest(issuer, { channels: { rest: { limits: { ...LIMITS, clientRequestsPerSecond: 0.01, clientBurst: 2 } } } } as never);
    try {
      const token = await issuer.token(staffClaims);
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await api.inquire({ kpj: demo.approved.kpj, reason: REASON }, { token })));
      expect(statuses.map((a) => a.status)).to.deep.equal([200, 200, 429]);
      expect(statuses[2]!.body).to.include({ type: 'urn:jht-switch:problem:rate-limited' });
      expect(Number(statuses[2]!.headers.get('retry-after'))).to.be.greaterThan(0);
      const other = await api.inquire({ kpj: demo.approved.kpj, reason: REASON }, { token: await issuer.token({ ...staffClaims, client_id: 'callcentre-1' }) });
      expect(other.status).to.equal(200);
    } finally {
      await api.stop();
    }
  });

  it('per participant, whoever asks: a third inquiry for one KPJ within the burst is 429; another KPJ is not', async () => {
    const api = await startTestRest(issuer, { channels: { rest: { limits: { ...LIMITS, participantRequestsPerMinute: 1, participantBurst: 2 } } } } as never);
    try {
      const counter = await issuer.token(staffClaims);
      const callCentre = await issuer.token({ ...staffClaims, client_id: 'callcentre-1' });
      const answers = [
        await api.inquire({ kpj: demo.second.kpj, reason: REASON }, { token: counter }),
        await api.inquire({ kpj: demo.second.kpj, reason: REASON }, { token: callCentre }),
        await api.inquire({ kpj: demo.second.kpj, reason: REASON }, { token: counter }),
      ];
      expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 429]);
      expect(Number(answers[2]!.headers.get('retry-after'))).to.be.within(1, 60);
      expect((await api.inquire({ kpj: demo.approved.kpj, reason: REASON }, { token: counter })).status).to.equal(200);
    } finally {
      await api.stop();
    }
  });
});

describe('channels/rest: the ledger unavailable (503 + Retry-After)', function () {
  this.timeout(120_000);
  const BUDGET_MS = 250;

  it('answers 503 within the budget while the breaker is open, then 200 once the ledger is back', async function () {
    const db = await getTestDatabase();
    if (!db.embedded) this.skip();
    const issuer = await startTestIssuer();
    const api = await startTestRest(issuer, {
      ledger: { timeoutMs: BUDGET_MS, breakerResetMs: 1_000, breakerErrorPercentage: 50, breakerVolumeThreshold: 2 },
      channels: { rest: { limits: LIMITS } },
    } as never);
    const token = await issuer.token(staffClaims);
    const ask = async () => {
      const started = performance.now();
      const answer = await api.inquire({ kpj: demo.approved.kpj, reason: REASON }, { token });
      return { ...answer, ms: performance.now() - started };
    };
    try {
      expect((await ask()).status).to.equal(200);
      await db.pauseServer();
      try {
        await waitFor(() => api.ledger.state === 'open' ? true : ask().then(() => false), { what: 'the breaker to open', timeoutMs: 20_000, intervalMs: 20 });
        const open = [await ask(), await ask(), await ask()];
        for (const answer of open) {
          expect(answer.status).to.equal(503);
          expect(answer.body).to.include({ type: 'urn:jht-switch:problem:unavailable' });
          expect(answer.headers.get('retry-after')).to.equal('1');
          expect(answer.ms, 'within the budget (with slack for a loaded machine)').to.be.below(BUDGET_MS + 250);
        }
      } finally {
        await db.resumeServer();
      }
      await waitFor(async () => (await ask()).status === 200, { what: 'a 200 once the ledger is back', timeoutMs: 20_000, intervalMs: 200 });
    } finally {
      await api.stop();
      await issuer.close();
    }
  });
});
