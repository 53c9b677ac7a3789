import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { expect } from 'chai';
import { DataKeyNotHeldError, assertDataKeysHeld, instrumentHash, registerDataKey, seedDemoData } from '../../src/ledger/index.js';
import {
  DEVELOPMENT_KEY_ID, DataKey, DataKeyError, KEY_PURPOSES, KeyRing, developmentKeyMaterial, developmentKeyRing, isKnownTestKey,
} from '../../src/security/keys/index.js';
import { TEST_KEYS, demo, expectThrows, getTestDatabase, scratchDatabase } from '../support/index.js';

/** A purpose key as SECURITY.md documents its derivation, computed here independently of the code under test. */
function derived(material: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', material, Buffer.from('jht-switch data key v1'), `jht-switch/${purpose}/v1`, 32));
}

describe('security: the key model (src/security/keys)', () => {
  it('derives each purpose key by HKDF-SHA256 exactly as SECURITY.md says', () => {
    const material = randomBytes(32);
    const key = new DataKey(material);
    for (const purpose of KEY_PURPOSES) {
      expect(key.hmac(purpose, '42').equals(createHmac('sha256', derived(material, purpose)).update('42').digest()), purpose).to.equal(true);
    }
  });

  const material = randomBytes(32);
  const key = new DataKey(material);

  it('derives one key per purpose: the same value hashes differently under each', () => {
    const hashes = KEY_PURPOSES.map((purpose) => key.hmac(purpose, demo.approvedCard).toString('hex'));
    expect(new Set(hashes).size).to.equal(KEY_PURPOSES.length);
    const checks = KEY_PURPOSES.map((purpose) => key.checkValue(purpose));
    expect(new Set(checks).size).to.equal(KEY_PURPOSES.length);
    for (const check of checks) expect(check).to.match(/^[0-9A-F]{6}$/);
  });

  it('is stable: the same material gives the same id, hashes and check values', () => {
    const again = new DataKey(Buffer.from(material));
    expect(again.id).to.equal(key.id).and.match(/^[0-9a-f]{8}$/);
    expect(again.hmac('instrument', '1234').equals(key.hmac('instrument', '1234'))).to.equal(true);
    expect(new DataKey(randomBytes(32)).id).to.not.equal(key.id);
  });

  it('never prints key material: JSON, inspect and strings show the id only', () => {
    const printed = [JSON.stringify({ key }), inspect(key), `${key}`, JSON.stringify(new KeyRing({ current: key }))].join(' ');
    expect(printed).to.include(key.id);
    expect(printed).to.not.include(material.toString('hex'));
    expect(printed).to.not.include(derived(material, 'instrument').toString('hex'));
  });

  it('refuses a key shorter than 32 bytes, and the same key twice in one ring', () => {
    expectThrows(() => new DataKey(randomBytes(31)), DataKeyError, 'DATA_KEY_TOO_SHORT');
    expectThrows(() => new KeyRing({ current: key, previous: new DataKey(Buffer.from(material)) }), DataKeyError, 'DATA_KEY_DUPLICATE');
  });

  it('knows the public keys: the development key, repeated bytes, the published test patterns', () => {
    expect(isKnownTestKey(developmentKeyMaterial())).to.equal(true);
    expect(isKnownTestKey(Buffer.alloc(32, 0x41))).to.equal(true);
    expect(isKnownTestKey(Buffer.from('0123456789ABCDEFFEDCBA98765432100123456789ABCDEFFEDCBA9876543210', 'hex'))).to.equal(true);
    expect(isKnownTestKey(material)).to.equal(false);
    expect(developmentKeyRing().current.id).to.equal(DEVELOPMENT_KEY_ID);
  });

  it('a rotation window looks up under the new key first, then the previous one; verify-only keys are never looked up', () => {
    const next = new DataKey(randomBytes(32));
    const old = new DataKey(randomBytes(32));
    const ring = new KeyRing({ current: next, previous: key, verifyOnly: [old] });
    expect(ring.lookupKeys().map((k) => k.id)).to.deep.equal([next.id, key.id]);
    expect(ring.lookupHashes('instrument', '42').map((h) => h.toString('hex')))
      .to.deep.equal([next.hmac('instrument', '42').toString('hex'), key.hmac('instrument', '42').toString('hex')]);
    expect(ring.byId(old.id)).to.equal(old);
    expect(ring.ids()).to.have.members([next.id, key.id, old.id]);
  });
});

describe('ledger: each hash names its key (migration 008)', function () {
  this.timeout(30_000);

  it('the demo seed registers its key and records it on every link', async () => {
    const db = await getTestDatabase();
    const { rows } = await db.pool.query<{ key_id: string | null; n: number }>(
      'SELECT key_id, count(*)::int AS n FROM instrument_link GROUP BY key_id');
    expect(rows.map((r) => r.key_id)).to.deep.equal([TEST_KEYS.current.id]);
    const registered = await db.pool.query<{ check_value: string }>('SELECT check_value FROM data_key WHERE key_id = $1', [TEST_KEYS.current.id]);
    expect(registered.rows[0]?.check_value).to.equal(TEST_KEYS.current.checkValue('instrument'));
  });

  it('a switch refuses a database hashed under a key it does not hold, and links of no recorded key', async function () {
    const db = await getTestDatabase();
    if (!db.embedded) this.skip(); // needs CREATE DATABASE
    const scratch = await scratchDatabase(db.pool);
    try {
      const foreignMaterial = randomBytes(32);
      const foreign = new DataKey(foreignMaterial);
      await seedDemoData(scratch.pool, foreign);
      const refused = await assertDataKeysHeld(scratch.pool, developmentKeyRing()).then(() => undefined, (e: unknown) => e);
      expect(refused).to.be.instanceOf(DataKeyNotHeldError).and.have.property('code', 'LEDGER_DATA_KEY_NOT_HELD');
      expect(String(refused)).to.include(foreign.id).and.not.include(derived(foreignMaterial, 'instrument').toString('hex'));
      await assertDataKeysHeld(scratch.pool, new KeyRing({ current: developmentKeyRing().current, previous: foreign }));

      await registerDataKey(scratch.pool, foreign);
      const { rows } = await scratch.pool.query<{ id: bigint }>('SELECT id FROM participant LIMIT 1');
      const insertUnkeyed = () => scratch.pool.query(
        `INSERT INTO instrument_link (kind, instrument_hash, last4, participant_id) VALUES ('CARD', $1, '0000', $2)`,
        [instrumentHash(foreign, '6040990000009999'), rows[0]!.id]);
      expect(await insertUnkeyed().then(() => undefined, (e: unknown) => e), 'a new link must name its key').to.have.property('code', '23514');
      // Only a link of a build before migration 008 has no key id: made here by lifting the constraint.
      await scratch.pool.query('ALTER TABLE instrument_link DROP CONSTRAINT instrument_link_key_id_present');
      await insertUnkeyed();
      const unkeyed = await assertDataKeysHeld(scratch.pool, new KeyRing({ current: foreign })).then(() => undefined, (e: unknown) => e);
      expect(unkeyed).to.be.instanceOf(DataKeyNotHeldError);
      expect(String(unkeyed)).to.include('earlier build');
    } finally {
      await scratch.drop();
    }
  });
});
