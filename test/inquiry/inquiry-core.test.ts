import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Pool } from 'pg';
import {
  IdempotencyStore, InquiryCore, ParticipantReader, RateLimiter, type Credential, type Inquiry,
} from '../../src/inquiry/index.js';
import { JournalWriter } from '../../src/journal/index.js';
import { SWITCH_ROLE } from '../../src/ledger/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { TEST_KEYS, connectAsRole, demo, getTestDatabase, waitFor } from '../support/index.js';

const staff: Credential = { grants: new Set(['any']), subject: 'staff-1', deviceBound: false };
const inquiry = (key: string): Inquiry => ({
  channel: 'counter', requester: { kind: 'staff', clientId: 'core-test', staffId: 'staff-1' },
  participant: { kind: 'kpj', kpj: demo.approved.kpj }, reason: { code: 'AUDIT', ticketId: 'T-1' },
  idempotencyKey: key, receivedAt: new Date(), startedAt: performance.now(),
});

/** The real pool, except that the journal statement fails while `failing` is set (the journal's disk is full, say). */
function journalFailing(pool: Pool, state: { failing: boolean }): Pool {
  const query = (config: unknown, values?: unknown) => {
    if (state.failing && (config as { name?: string }).name?.startsWith('jht_journal_durable_')) return Promise.reject(new Error('journal: no space left'));
    return (pool.query as (c: unknown, v?: unknown) => Promise<unknown>)(config, values);
  };
  return new Proxy(pool, { get: (target, prop) => (prop === 'query' ? query : Reflect.get(target, prop)) });
}

describe('inquiry: the core, on the jht_switch grants', function () {
  this.timeout(30_000);
  let pool: Pool;
  before(async () => {
    pool = await connectAsRole(SWITCH_ROLE, { max: 4 });
  });
  after(async () => pool?.end());

  it('never answers without its journal row: a failed journal write is unavailable, and the key is given back', async () => {
    const state = { failing: true };
    const failingPool = journalFailing(pool, state);
    const core = new InquiryCore({
      reader: new ParticipantReader(pool, { guard: (work) => work(), timeoutMs: 1_000 }),
      keys: new IdempotencyStore(pool, { instanceId: 'core-test' }),
      journal: new JournalWriter(failingPool, { instanceId: 'core-test', logger: silentLogger() }),
      participantLimiter: new RateLimiter(1_000, 1_000),
      dataKeys: TEST_KEYS,
      unavailableRetryAfterSeconds: 2,
      log: silentLogger(),
    });
    const key = randomUUID();
    const refused = await core.balance(staff, inquiry(key));
    expect(refused).to.deep.include({ kind: 'refused', refusal: 'unavailable', retryAfterSeconds: 2 });
    state.failing = false;
    const { rows } = await (await getTestDatabase()).pool.query('SELECT 1 FROM journal WHERE reference = $1', [refused.reference]);
    expect(rows, 'nothing journaled under the refused answer').to.have.length(0);
    // The key was released, so the retry is processed (not answered 409), and answered this time.
    const released = async () => ((await (await getTestDatabase()).pool.query("SELECT 1 FROM inquiry_key WHERE requester = 'core-test' AND idem_key = $1", [key])).rowCount ?? 0) === 0;
    await waitFor(released, { what: 'the key to be released' });
    const answered = await core.balance(staff, inquiry(key));
    expect(answered.kind).to.equal('answered');
    const { rows: journaled } = await (await getTestDatabase()).pool.query('SELECT outcome FROM journal WHERE reference = $1', [answered.reference]);
    expect(journaled).to.deep.equal([{ outcome: 'answered' }]);
  });
});
