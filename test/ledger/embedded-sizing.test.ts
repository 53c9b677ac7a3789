import os from 'node:os';
import { expect } from 'chai';
import { embeddedSizing } from '../../src/ledger/embedded-sizing.js';
import { getTestDatabase } from '../support/index.js';

const GB = 1024 ** 3;

describe('ledger: the embedded cluster sized from the machine', () => {
  it('gives a quarter of the memory to shared buffers, half as cache, a 32nd to index builds', () => {
    expect(embeddedSizing(24 * GB)).to.deep.equal({ shared_buffers: '6144MB', effective_cache_size: '12288MB', maintenance_work_mem: '768MB' });
  });

  it("keeps PostgreSQL's defaults as the floor on a small machine, and bounds a big one", () => {
    expect(embeddedSizing(0.25 * GB)).to.deep.equal({ shared_buffers: '128MB', effective_cache_size: '512MB', maintenance_work_mem: '64MB' });
    expect(embeddedSizing(256 * GB)).to.deep.equal({ shared_buffers: '8192MB', effective_cache_size: '65536MB', maintenance_work_mem: '1024MB' });
  });

  it('is what the embedded cluster runs with', async function () {
    const db = await getTestDatabase();
    if (!db.embedded) this.skip();
    const { rows } = await db.pool.query<{ setting: string }>("SELECT current_setting('shared_buffers') AS setting");
    const expected = embeddedSizing(os.totalmem()).shared_buffers!;
    const mb = (value: string): number => (value.endsWith('GB') ? Number(value.slice(0, -2)) * 1024 : Number(value.slice(0, -2)));
    expect(mb(rows[0]!.setting)).to.equal(mb(expected));
  });
});
