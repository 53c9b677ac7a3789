import { expect } from 'chai';
import { AtmClaims, inquiryKeyOf, storedAnswerOf } from '../../src/channels/atm/transaction-key.js';
import { ClaimStore } from '../../src/inquiry/index.js';
import { JournalWriter, requestDigest } from '../../src/journal/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { TEST_KEYS, getTestDatabase } from '../support/index.js';

describe('journal: old duplicate-detection keys are pruned', function () {
  this.timeout(30_000);

  it('removes keys created before the cutoff, with their answers, and keeps newer ones', async () => {
    const { pool } = await getTestDatabase();
    const store = new AtmClaims(new ClaimStore(pool, { instanceId: 'prune-test', logger: silentLogger() }));
    try {
      const digest = requestDigest(TEST_KEYS, Buffer.from('prune'));
      const old = await store.claim({ acquirerId: '77701', stan: '000001', transmissionAt: '0101000000', terminalId: 'PRUNE001' }, digest, '0200');
      const fresh = await store.claim({ acquirerId: '77701', stan: '000002', transmissionAt: '0101000000', terminalId: 'PRUNE001' }, digest, '0200');
      const writer = new JournalWriter(pool, { instanceId: 'prune-test', logger: silentLogger() });
      for (const { id } of [old, fresh]) {
        await writer.commit({ kind: 'request', channel: 'atm', receivedAt: new Date(), inquiryKeyId: id }, { inquiryKeyId: id, ...storedAnswerOf({ responseCode: '00', additionalAmounts: '0001360C000000000000' }) });
      }
      await writer.close();
      await pool.query("UPDATE inquiry_key SET created_at = now() - interval '4 days' WHERE id = $1", [old.id]);
      const removed = await store.pruneCreatedBefore(new Date(Date.now() - 3 * 86_400_000), 1);
      expect(removed).to.be.at.least(1);
      const { rows } = await pool.query<{ id: string }>('SELECT id::text FROM inquiry_key WHERE requester = $1 ORDER BY id', [inquiryKeyOf({ acquirerId: '77701', stan: '000001', transmissionAt: '0101000000', terminalId: 'PRUNE001' }).requester]);
      expect(rows.map((r) => Number(r.id))).to.deep.equal([fresh.id]);
      const answers = await pool.query<{ id: string }>('SELECT inquiry_key_id::text AS id FROM inquiry_answer WHERE inquiry_key_id = ANY($1)', [[old.id, fresh.id]]);
      expect(answers.rows.map((r) => Number(r.id))).to.deep.equal([fresh.id]);
    } finally {
      store.close();
    }
  });
});
