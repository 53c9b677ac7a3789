import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import type { Pool } from 'pg';
import { AtmClaims } from '../../src/channels/atm/transaction-key.js';
import { ClaimStore } from '../../src/inquiry/index.js';
import { requestDigest } from '../../src/journal/index.js';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '../../src/ledger/migrate.js';
import { silentLogger } from '../../src/observability/logger.js';
import { getTestDatabase, TEST_KEYS } from '../support/index.js';

const log = silentLogger();

describe('ledger: the ATM keys move to the channel-neutral key table (migration 017)', function () {
  this.timeout(60_000);
  let admin: Pool;
  let pool: Pool;
  let name: string;
  let older: string;

  before(async function () {
    const db = await getTestDatabase();
    if (!db.embedded) this.skip(); // needs CREATE DATABASE on a server of our own
    admin = db.pool;
    name = `jht_keys_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const { options } = admin;
    pool = new pg.Pool({ host: options.host, port: options.port, user: options.user, password: options.password, database: name, max: 2 });
    pool.on('error', () => undefined);
    older = await mkdtemp(path.join(os.tmpdir(), 'jht-migrations-016-'));
    for (const file of (await readdir(DEFAULT_MIGRATIONS_DIR)).filter((f) => /^0(0\d|1[0-6])_/.test(f))) {
      await copyFile(path.join(DEFAULT_MIGRATIONS_DIR, file), path.join(older, file));
    }
  });
  after(async () => {
    await pool?.end();
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (older) await rm(older, { recursive: true, force: true });
  });

  it('copies live keys with their answers and reversal marks, points their journal rows at them, and drops txn_key', async () => {
    expect((await migrate(pool, { log, dir: older })).current).to.equal(16);
    const digest = requestDigest(TEST_KEYS, Buffer.from('an original from before the upgrade'));
    const { rows: [original] } = await pool.query<{ id: string }>(
      `INSERT INTO txn_key (acquirer_id, stan, transmission_at, terminal_id, request_digest, digest_key_id, mti, instance_id, reversed_at, reversal_ref)
       VALUES ('99901', '000123', '1202101500', 'ATM 0001', $1, $2, '0200', 'old-instance', now(), '0420:000124:1202101600') RETURNING id::text`,
      [digest.value, digest.keyId]);
    await pool.query(`INSERT INTO txn_answer (txn_key_id, response_code, response_54, response_48, responded_at)
                      VALUES ($1, '00', '0001360C000015250000', 'KPJ-AND-NAME', now())`, [original!.id]);
    await pool.query(
      `INSERT INTO txn_key (acquirer_id, stan, transmission_at, terminal_id, request_digest, mti, instance_id)
       VALUES ('99901', '000125', '1202101700', 'ATM 0001', $1, '0200', 'old-instance')`, [digest.value]);
    await pool.query(`INSERT INTO journal (kind, stan, terminal_id, response_code, received_at, txn_key_id, instance_id)
                      VALUES ('request', '000123', 'ATM 0001', '00', now(), $1, 'old-instance')`, [original!.id]);

    expect((await migrate(pool, { log })).current).to.be.at.least(17);
    const { rows: keys } = await pool.query(
      `SELECT k.requester, k.idem_key, k.request_type, k.digest_key_id, k.reversed_at IS NOT NULL AS reversed, k.reversal_ref, a.outcome, a.body
         FROM inquiry_key k LEFT JOIN inquiry_answer a ON a.inquiry_key_id = k.id WHERE k.channel = 'atm' ORDER BY k.idem_key`);
    expect(keys).to.deep.equal([
      { requester: '99901/ATM 0001', idem_key: '000123/1202101500', request_type: '0200', digest_key_id: digest.keyId, reversed: true,
        reversal_ref: '0420:000124:1202101600', outcome: '00', body: { 54: '0001360C000015250000', 48: 'KPJ-AND-NAME' } },
      { requester: '99901/ATM 0001', idem_key: '000125/1202101700', request_type: '0200', digest_key_id: null, reversed: false,
        reversal_ref: null, outcome: null, body: null },
    ]);
    const { rows: [journaled] } = await pool.query<{ linked: boolean }>(
      `SELECT j.inquiry_key_id = k.id AS linked FROM journal j, inquiry_key k WHERE j.stan = '000123' AND k.idem_key = '000123/1202101500'`);
    expect(journaled?.linked, 'the original\'s journal row names its new key').to.equal(true);
    const { rows: [tables] } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname IN ('txn_key', 'txn_answer')");
    expect(tables?.n).to.equal(0);

    // A retransmission after the upgrade gets the original's answer; the unanswered one is an unknown outcome.
    const claims = new AtmClaims(new ClaimStore(pool, { instanceId: 'new-instance', logger: log }));
    try {
      const again = await claims.claim({ acquirerId: '99901', stan: '000123', transmissionAt: '1202101500', terminalId: 'ATM 0001' }, digest, '0200');
      expect(again).to.deep.include({ kind: 'retransmission', claimedBy: 'old-instance',
        response: { responseCode: '00', additionalAmounts: '0001360C000015250000', additionalData: 'KPJ-AND-NAME' } });
      const unknown = await claims.claim({ acquirerId: '99901', stan: '000125', transmissionAt: '1202101700', terminalId: 'ATM 0001' }, digest, '0200');
      expect(unknown).to.deep.include({ kind: 'retransmission', claimedBy: 'old-instance', response: undefined });
      expect(await claims.reclaim(unknown.id, 'old-instance')).to.deep.equal({ won: true });
    } finally {
      claims.close();
    }
  });
});
