import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { DataKey, KeyRing } from '../../../src/security/keys/index.js';
import { TEST_KEYS } from '../../support/index.js';
import { useImportFixture } from './import-fixture.js';

/** A file of several batches is staged by worker threads (stage-pool.ts): same rows, same order, same lines. */

const ROWS = 7_000; // four batches of 2,000: the first staged inline, the others by the workers
const WORKERS = { workers: 2 };
const kpj = (i: number): string => String(13_100_000_000 + i);
const nik = (i: number): string => String(3_171_000_000_000_000 + i);
const participants = (bad: ReadonlySet<number> = new Set()): string =>
  `kpj,nik,name\n${Array.from({ length: ROWS }, (_, i) => `${kpj(i)},${bad.has(i) ? '12' : nik(i)},P ${i}\n`).join('')}`;

describe('ledger/import: staging in worker threads', function () {
  this.timeout(120_000);
  const fx = useImportFixture();

  it('names the line of each bad row wherever its batch was staged, and applies nothing', async () => {
    const errors = await fx.loadFailing('participants', participants(new Set([5, 2_500, 6_998])), WORKERS);
    expect(errors.map((e) => [e.line, e.column])).to.deep.equal([[7, 'nik'], [2_502, 'nik'], [7_000, 'nik']]);
    expect(await fx.count('participant')).to.equal(0);
  });

  it('inserts every row in the file\'s order, hashed as DataKey.hmac hashes', async () => {
    expect(await fx.load('participants', participants(), WORKERS)).to.include({ rows: ROWS, inserted: ROWS });
    const { rows } = await fx.admin.query<{ kpj_number: string; nik_hash: Buffer; nik_key_id: string }>(
      'SELECT kpj_number, nik_hash, nik_key_id FROM participant ORDER BY id');
    expect(rows.map((r) => r.kpj_number)).to.deep.equal(Array.from({ length: ROWS }, (_, i) => kpj(i)));
    for (const i of [0, 1_999, 2_000, 4_321, ROWS - 1]) {
      expect(rows[i]!.nik_hash, `row ${i}`).to.deep.equal(TEST_KEYS.current.hmac('contact', nik(i)));
      expect(rows[i]!.nik_key_id).to.equal(TEST_KEYS.current.id);
    }
  });

  it('rekeys under a rotation window from the workers too', async () => {
    const next = new DataKey(randomBytes(32));
    expect(await fx.load('participants', participants(), { ...WORKERS, keys: new KeyRing({ current: next, previous: TEST_KEYS.current }) }))
      .to.include({ rekeyed: ROWS, updated: 0 });
    const { rows } = await fx.admin.query<{ nik_hash: Buffer }>(`SELECT nik_hash FROM participant WHERE kpj_number = '${kpj(6_543)}'`);
    expect(rows[0]!.nik_hash).to.deep.equal(next.hmac('contact', nik(6_543)));
  });
});
