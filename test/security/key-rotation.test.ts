import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import type { Pool } from 'pg';
import { balanceInquiry, networkRequest } from '../../src/client/atm-messages.js';
import { IsoClient } from '../../src/client/iso-client.js';
import { switchConfigSchema } from '../../src/config/schema.js';
import type { IsoMessage } from '../../src/iso8583/index.js';
import {
  DEMO_PARTICIPANTS, DataKeyNotHeldError, openDatabase, registerDataKey, relinkUnderCurrentKey, seedDemoData, type DatabaseHandle, type DutyRole,
} from '../../src/ledger/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { DataKey, KeyRing, readConfiguredKeys, type KeysConfig } from '../../src/security/keys/index.js';
import { startSwitch, type RunningSwitch } from '../../src/channels/atm/jht-switch.js';
import { demo, getTestDatabase, readLedger, roleDatabaseUrl, runCli, scratchDatabase, uniqueStan, writeKeyFile } from '../support/index.js';

/**
 * The rotation of SECURITY.md, "Key rotation", end to end on a database of its own: links under key A; a
 * window with B current and A previous; the links imported again under B; A retired; B alone with A
 * verify-only. No step needs a clear card number other than what the ATM sends.
 */
const DEMO_LINKS = DEMO_PARTICIPANTS.reduce((n, p) => n + p.cards.length + p.accounts.length, 0);

describe('security: a data key rotation, end to end (no clear card numbers)', function () {
  this.timeout(120_000);
  let dir: string;
  let scratch: { pool: Pool; drop(): Promise<void> };
  let url: string;
  const materialA = randomBytes(32);
  const materialB = randomBytes(32);
  const keyA = new DataKey(materialA);
  const keyB = new DataKey(materialB);
  let fileA: string;
  let fileB: string;

  before(async function () {
    const db = await getTestDatabase();
    if (!db.embedded) return this.skip(); // needs CREATE DATABASE
    dir = mkdtempSync(path.join(os.tmpdir(), 'jht-rotation-'));
    chmodSync(dir, 0o700);
    fileA = writeKeyFile(dir, 'data-key-a', materialA);
    fileB = writeKeyFile(dir, 'data-key-b', materialB);
    scratch = await scratchDatabase(db.pool);
    const { options } = scratch.pool;
    url = `postgresql://${options.user}:${encodeURIComponent(String(options.password))}@${options.host}:${options.port}/${options.database}`;
    await seedDemoData(scratch.pool, keyA); // the banks' link files, imported under A
  });
  after(async () => {
    await scratch?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A duty role's test login, on the scratch database. */
  async function roleUrl(role: DutyRole): Promise<URL> {
    const url = new URL(await roleDatabaseUrl(role));
    url.pathname = `/${String(scratch.pool.options.database)}`;
    return url;
  }
  async function rolePool(role: DutyRole): Promise<Pool> {
    const pool = new pg.Pool({ connectionString: (await roleUrl(role)).toString(), max: 1 });
    pool.on('error', () => undefined);
    return pool;
  }

  /** A switch on the scratch database with the keys `keys` names, and a signed-on ATM. */
  async function switchWith(keys: KeysConfig): Promise<{ running: RunningSwitch; atm: IsoClient; stop(): Promise<void> }> {
    const database: DatabaseHandle = await openDatabase({ databaseUrl: url, dataDir: '', keys: readConfiguredKeys(keys, {}), log: silentLogger(), role: 'owner' });
    const config = switchConfigSchema.parse({ listen: { host: '127.0.0.1', port: 0 } });
    const running = await startSwitch(config, silentLogger(), { database });
    const atm = await IsoClient.connect({ port: running.listener.port, timeoutMs: 5_000 });
    expect((await atm.request(networkRequest(atm.nextStan(), '001'))).get(39)).to.equal('00');
    return {
      running,
      atm,
      async stop() {
        await atm.close();
        await running.stop();
        await database.stop();
      },
    };
  }

  const inquiry = (pan: string): IsoMessage => balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ROTATE01', pan });
  let original: IsoMessage;
  let originalAnswer: string;

  it('before: A alone; a request is digested under A', async () => {
    const sw = await switchWith({ dataKeyFile: fileA, verifyOnlyKeyFiles: [] });
    try {
      original = inquiry(demo.approvedCard);
      const answer = await sw.atm.request(original);
      expect(answer.get(39)).to.equal('00');
      originalAnswer = JSON.stringify(answer.toUnmaskedJSON());
      const { rows } = await scratch.pool.query<{ digest_key_id: string }>("SELECT digest_key_id FROM inquiry_key WHERE channel = 'atm' AND idem_key LIKE $1 || '/%'", [original.get(11)]);
      expect(rows.map((r) => r.digest_key_id)).to.deep.equal([keyA.id]);
    } finally {
      await sw.stop();
    }
  });

  it('B alone is refused while links under A remain: the switch would answer 14 to every card', async () => {
    const refused = await switchWith({ dataKeyFile: fileB, verifyOnlyKeyFiles: [fileA] }).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(DataKeyNotHeldError);
    expect(String(refused)).to.include(keyA.id);
  });

  it('the window: B current, A previous; a card linked under A answers 00, new claims are digested under B', async () => {
    const sw = await switchWith({ dataKeyFile: fileB, previousDataKeyFile: fileA, verifyOnlyKeyFiles: [] });
    try {
      const request = inquiry(demo.approvedCard);
      expect((await sw.atm.request(request)).get(39)).to.equal('00');
      expect((await sw.atm.request(inquiry(demo.unlinkedCard))).get(39)).to.equal('14');
      expect(JSON.stringify((await sw.atm.request(original)).toUnmaskedJSON()), 'a retransmission of an original digested under A').to.equal(originalAnswer);
      const { rows } = await scratch.pool.query<{ digest_key_id: string }>("SELECT digest_key_id FROM inquiry_key WHERE channel = 'atm' AND idem_key LIKE $1 || '/%'", [request.get(11)]);
      expect(rows.map((r) => r.digest_key_id)).to.deep.equal([keyB.id]);
      const keys = sw.running.database.keys;
      expect(await readLedger(scratch.pool, keys, { account: demo.account }), 'an account, under A').to.include({ kind: 'found', kpj: demo.approved.kpj });
      // The link files imported again, as the importer's role does it: each link moved from A's hash to B's.
      const importer = await rolePool('jht_importer');
      try {
        await registerDataKey(importer, keyB);
        for (const p of DEMO_PARTICIPANTS) {
          for (const card of p.cards) expect(await relinkUnderCurrentKey(importer, sw.running.database.keys, 'CARD', card)).to.equal(true);
          for (const account of p.accounts) expect(await relinkUnderCurrentKey(importer, sw.running.database.keys, 'ACCOUNT', account)).to.equal(true);
        }
        expect(await relinkUnderCurrentKey(importer, sw.running.database.keys, 'CARD', demo.approvedCard), 'moved already').to.equal(false);
      } finally {
        await importer.end();
      }
      expect(await readLedger(scratch.pool, keys, { account: demo.account }), 'under B').to.include({ kind: 'found', kpj: demo.approved.kpj });
      expect((await sw.atm.request(inquiry(demo.approvedCard))).get(39)).to.equal('00');
    } finally {
      await sw.stop();
    }
  });

  it('`keys status` shows each key, its role, check values and link count; `keys retire` retires A once no link uses it', async () => {
    const withKeys = { JHT_DATA_KEY_FILE: fileB };
    const support = await roleUrl('jht_support');
    const status = await runCli(['keys', 'status', '--json', '--database-url', support.toString()], undefined, withKeys);
    expect(status.status, status.stderr).to.equal(0);
    const rows = JSON.parse(status.stdout) as { id: string; role: string; checkValues: Record<string, string>; database: { links: number; retired: boolean } }[];
    expect(rows.map((r) => [r.id, r.role, r.database.links, r.database.retired])).to.deep.equal([[keyB.id, 'current', DEMO_LINKS, false], [keyA.id, 'not held', 0, false]]);
    expect(rows[0]!.checkValues).to.deep.equal({ instrument: keyB.checkValue('instrument'), 'request-digest': keyB.checkValue('request-digest'), contact: keyB.checkValue('contact') });
    for (const secret of [materialA, materialB]) expect(status.stdout + status.stderr).to.not.include(secret.toString('hex'));

    const importer = await roleUrl('jht_importer');
    const retire = await runCli(['keys', 'retire', keyA.id, '--database-url', importer.toString()], undefined, withKeys);
    expect(retire.status, retire.stderr).to.equal(0);
    expect(retire.stdout).to.include(`data key ${keyA.id} retired`);
    const inUse = await runCli(['keys', 'retire', keyB.id, '--database-url', importer.toString()], undefined, withKeys);
    expect(inUse.status).to.equal(2);
    expect(inUse.stderr.trim()).to.match(/^error: data key \w+ still has \d+ links: .*\(LEDGER_DATA_KEY_IN_USE\)$/);
  });

  it('after: B with A verify-only; a retransmission whose original was digested under A still replays, not 94', async () => {
    const sw = await switchWith({ dataKeyFile: fileB, verifyOnlyKeyFiles: [fileA] });
    try {
      expect(JSON.stringify((await sw.atm.request(original)).toUnmaskedJSON())).to.equal(originalAnswer);
      expect((await sw.atm.request(inquiry(demo.approvedCard))).get(39)).to.equal('00');
    } finally {
      await sw.stop();
    }
    // Without A, the same retransmission cannot be told from a duplicate: why A stays for the 3 days of digests.
    const withoutA = await switchWith({ dataKeyFile: fileB, verifyOnlyKeyFiles: [] });
    try {
      expect((await withoutA.atm.request(original)).get(39)).to.equal('94');
    } finally {
      await withoutA.stop();
    }
  });

  it('a number linked under both keys (imported under B before its link under A moved) is answered by its link under B', async () => {
    const number = '6040990000009990';
    const participants = await scratch.pool.query<{ id: string }>('SELECT id FROM participant ORDER BY id LIMIT 2');
    const [underA, underB] = participants.rows.map((r) => r.id);
    for (const [key, participant] of [[keyA, underA], [keyB, underB]] as const) {
      await scratch.pool.query(
        `INSERT INTO instrument_link (kind, instrument_hash, key_id, last4, participant_id) VALUES ('CARD', $1, $2, '9990', $3)`,
        [key.hmac('instrument', number), key.id, participant]);
    }
    try {
      const expected = await scratch.pool.query<{ kpj_number: string }>('SELECT kpj_number FROM participant WHERE id = $1', [underB]);
      expect(await readLedger(scratch.pool, new KeyRing({ current: keyB, previous: keyA }), { card: number })).to.include({ kind: 'found', kpj: expected.rows[0]!.kpj_number });
    } finally {
      await scratch.pool.query('DELETE FROM instrument_link WHERE last4 = $1', ['9990']);
    }
  });
});
