import { expect } from 'chai';
import { JournalWriter, TransactionKeyStore, requestDigest } from '../../src/journal/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { TEST_KEYS, getTestDatabase } from '../support/index.js';

describe('journal: old duplicate-detection keys are pruned', function () {
  this.timeout(30_000);

  it('removes keys created before the cutoff, with their answers, and keeps newer ones', async () => {
    const { pool } = await getTestDatabase();
    const store = new TransactionKeyStore(pool, { instanceId: 'prune-test', logger: silentLogger() });
    try {
      const digest = requestDigest(TEST_KEYS, Buffer.from('prune'));
      const old = await store.claim({ acquirerId: '77701', stan: '000001', transmissionAt: '0101000000', terminalId: 'PRUNE001' }, digest, '0200');
      const fresh = await store.claim({ acquirerId: '77701', stan: '000002', transmissionAt: '0101000000', terminalId: 'PRUNE001' }, digest, '0200');
      const writer = new JournalWriter(pool, { instanceId: 'prune-test', logger: silentLogger() });
      for (const { id } of [old, fresh]) {
        await writer.commit({ kind: 'request', receivedAt: new Date(), txnKeyId: id }, { txnKeyId: id, response: { responseCode: '00', additionalAmounts: '0001360C000000000000' } });
      }
      await writer.close();
      await pool.query("UPDATE txn_key SET created_at = now() - interval '4 days' WHERE id = $1", [old.id]);
      const removed = await store.pruneCreatedBefore(new Date(Date.now() - 3 * 86_400_000), 1);
      expect(removed).to.be.at.least(1);
      const { rows } = await pool.query<{ id: string }>("SELECT id::text FROM txn_key WHERE terminal_id = 'PRUNE001' ORDER BY id");
      expect(rows.map((r) => Number(r.id))).to.deep.equal([fresh.id]);
      const answers = await pool.query<{ id: string }>('SELECT txn_key_id::text AS id FROM txn_answer WHERE txn_key_id = ANY($1)', [[old.id, fresh.id]]);
      expect(answers.rows.map((r) => Number(r.id))).to.deep.equal([fresh.id]);
    } finally {
      store.close();
    }
  });
});
