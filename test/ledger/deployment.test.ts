import { expect } from 'chai';
import type { Pool } from 'pg';
import { decideDeployment } from '../../src/ledger/database.js';
import { markReal, readDeployment, seedDemoData } from '../../src/ledger/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { getTestDatabase, scratchDatabase, TEST_KEYS } from '../support/index.js';

const log = silentLogger();

describe('ledger: the demo marker (migration 005)', function () {
  this.timeout(30_000);
  let admin: Pool;
  before(async function () {
    const db = await getTestDatabase();
    if (!db.embedded) this.skip(); // needs CREATE DATABASE on a server of our own
    admin = db.pool;
  });

  it('a new, empty embedded cluster is seeded and becomes the demo in the same step', async () => {
    const scratch = await scratchDatabase(admin);
    try {
      expect(await readDeployment(scratch.pool), 'undecided counts as real').to.equal('real');
      expect(await decideDeployment(scratch.pool, true, { dataDir: '', keys: TEST_KEYS, log })).to.equal('demo');
      const { rows } = await scratch.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM participant');
      expect(rows[0]?.n).to.equal(3);
    } finally {
      await scratch.drop();
    }
  });

  it('an embedded cluster holding other data is real and is never seeded with the demo cards', async () => {
    const scratch = await scratchDatabase(admin);
    try {
      await scratch.pool.query(`INSERT INTO participant (kpj_number, name) VALUES ('19000000001', 'REAL PERSON')`);
      expect(await decideDeployment(scratch.pool, true, { dataDir: '', keys: TEST_KEYS, log })).to.equal('real');
      const refused = await decideDeployment(scratch.pool, true, { dataDir: '', keys: TEST_KEYS, log, seedDemo: true })
        .then(() => undefined, (error: unknown) => error);
      expect(refused).to.have.property('code', 'LEDGER_DEMO_SEED_REFUSED');
      const { rows } = await scratch.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM instrument_link');
      expect(rows[0]?.n, 'no demo card was linked').to.equal(0);
    } finally {
      await scratch.drop();
    }
  });

  it('an external database is real even when the demo data is seeded into it', async () => {
    const scratch = await scratchDatabase(admin);
    try {
      expect(await decideDeployment(scratch.pool, false, { dataDir: '', keys: TEST_KEYS, log, seedDemo: true })).to.equal('real');
      const { rows } = await scratch.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM participant');
      expect(rows[0]?.n).to.equal(3);
    } finally {
      await scratch.drop();
    }
  });

  it('once real, a database never becomes the demo again, and the marker cannot be deleted', async () => {
    const scratch = await scratchDatabase(admin);
    try {
      await seedDemoData(scratch.pool, TEST_KEYS.current, log, { asDemo: true });
      expect(await readDeployment(scratch.pool)).to.equal('demo');
      await markReal(scratch.pool, 'an import');
      expect(await readDeployment(scratch.pool)).to.equal('real');
      const back = await scratch.pool.query(`UPDATE deployment SET kind = 'demo'`).then(() => undefined, (e: unknown) => e);
      expect(back).to.have.property('code', 'JH004');
      const gone = await scratch.pool.query('DELETE FROM deployment').then(() => undefined, (e: unknown) => e);
      expect(gone).to.have.property('code', 'JH004');
      expect(await decideDeployment(scratch.pool, true, { dataDir: '', keys: TEST_KEYS, log })).to.equal('real');
    } finally {
      await scratch.drop();
    }
  });

  it('the shared test cluster, new and seeded, is the demo', async () => {
    expect(await readDeployment(admin)).to.equal('demo');
  });
});
