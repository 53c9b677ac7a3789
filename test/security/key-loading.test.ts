import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { openDatabase } from '../../src/ledger/index.js';
import { markReal } from '../../src/ledger/deployment.js';
import { silentLogger } from '../../src/observability/logger.js';
import {
  ConfiguredKeys, DataKey, KeyLoadError, KeyRing, developmentKeyMaterial, developmentKeyRing, fixedKeySource, loadKeyRing, readConfiguredKeys,
  readKeyFile, type KeysConfig,
} from '../../src/security/keys/index.js';
import { expectThrows, freePort, runCli, writeKeyFile } from '../support/index.js';

const NO_FILES: KeysConfig = { verifyOnlyKeyFiles: [] };

describe('security: key loading fails closed (SECURITY.md, "Key loading")', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'jht-keys-'));
    // As root, the embedded postgres runs as another user and must be able to enter it (key files stay 0600).
    chmodSync(dir, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const keyFile = (name: string, material: Buffer = randomBytes(32), mode = 0o600): string => writeKeyFile(dir, name, material, mode);
  const loadError = (load: () => unknown, code: string): KeyLoadError => expectThrows(load, KeyLoadError, code);

  it('reads a key file made by `openssl rand -hex 32` (mode 0600), and names it by id only', () => {
    const file = path.join(dir, 'openssl-key');
    execFileSync('sh', ['-c', `umask 077; openssl rand -hex 32 > ${file}`]);
    const ring = readConfiguredKeys({ dataKeyFile: file, verifyOnlyKeyFiles: [] }, {}).ringFor('real');
    const expected = new DataKey(Buffer.from(readKeyFile(file).text.trim(), 'hex'));
    expect(ring.current.id).to.equal(expected.id);
    expect(JSON.stringify(ring)).to.not.include(readKeyFile(file).text.trim());
  });

  it('refuses a key file its group or others can read, and one owned by another user', function () {
    const exposed = keyFile('exposed', randomBytes(32), 0o644);
    chmodSync(exposed, 0o644); // the umask may have taken bits off
    const refused = loadError(() => readConfiguredKeys({ dataKeyFile: exposed, verifyOnlyKeyFiles: [] }, {}), 'KEY_FILE_EXPOSED');
    expect(refused.message).to.include('chmod 600');
    chmodSync(exposed, 0o640);
    loadError(() => readConfiguredKeys({ dataKeyFile: exposed, verifyOnlyKeyFiles: [] }, {}), 'KEY_FILE_EXPOSED');
    if (process.getuid?.() !== 0) return this.skip(); // only root can give a file to another user
    const foreign = keyFile('foreign');
    chownSync(foreign, 4321, 4321);
    loadError(() => readConfiguredKeys({ dataKeyFile: foreign, verifyOnlyKeyFiles: [] }, {}), 'KEY_FILE_OWNER');
  });

  it('refuses an empty key (as missing), a key that is not hex without quoting it, and one under 32 bytes', () => {
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n', { mode: 0o600 });
    loadError(() => readConfiguredKeys({ dataKeyFile: empty, verifyOnlyKeyFiles: [] }, {}), 'KEY_MISSING');
    const typo = path.join(dir, 'typo');
    writeFileSync(typo, `${randomBytes(32).toString('hex').slice(0, 63)}Z\n`, { mode: 0o600 });
    const malformed = loadError(() => readConfiguredKeys({ dataKeyFile: typo, verifyOnlyKeyFiles: [] }, {}), 'KEY_MALFORMED');
    expect(malformed.message).to.not.match(/[0-9a-f]{16}/);
    loadError(() => readConfiguredKeys({ dataKeyFile: keyFile('short', randomBytes(16)), verifyOnlyKeyFiles: [] }, {}), 'KEY_TOO_SHORT');
    // An empty JHT_DATA_KEY is no key at all: the demo's development key, and nothing else.
    expect(readConfiguredKeys(NO_FILES, { JHT_DATA_KEY: '' }).ringFor('demo').current.id).to.equal(developmentKeyRing().current.id);
    loadError(() => readConfiguredKeys(NO_FILES, { JHT_DATA_KEY: '  ' }).ringFor('real'), 'KEY_MISSING');
  });

  it('without a key: the demo keeps the development key, real data is refused', () => {
    const none = readConfiguredKeys(NO_FILES, {});
    expect(none.ringFor('demo').current.id).to.equal(developmentKeyRing().current.id);
    const refused = loadError(() => none.ringFor('real'), 'KEY_MISSING');
    expect(refused.message).to.include('keys.dataKeyFile').and.include('JHT_DATA_KEY_FILE');
    loadError(() => loadKeyRing({ keys: NO_FILES }, { deployment: 'real', env: {} }), 'KEY_MISSING');
    loadError(() => fixedKeySource(developmentKeyRing()).ringFor('real'), 'KEY_PUBLIC');
  });

  it('refuses known test keys outside the demo: the development key, all zeros, a repeated byte', () => {
    for (const material of [developmentKeyMaterial(), Buffer.alloc(32), Buffer.alloc(48, 0x41)]) {
      const keys = readConfiguredKeys({ dataKeyFile: keyFile('public', material), verifyOnlyKeyFiles: [] }, {});
      expect(keys.ringFor('demo').current.id).to.equal(new DataKey(material).id);
      loadError(() => keys.ringFor('real'), 'KEY_PUBLIC');
    }
    // A public key is refused in any role of the ring, not only as the current key.
    const previous = readConfiguredKeys({ dataKeyFile: keyFile('real'), previousDataKeyFile: keyFile('zero', Buffer.alloc(32)), verifyOnlyKeyFiles: [] }, {});
    loadError(() => previous.ringFor('real'), 'KEY_PUBLIC');
  });

  it('JHT_DATA_KEY is accepted as hex and deleted from the environment once read, even when refused', () => {
    const material = randomBytes(32);
    const env: NodeJS.ProcessEnv = { JHT_DATA_KEY: material.toString('hex') };
    expect(readConfiguredKeys(NO_FILES, env).ringFor('real').current.id).to.equal(new DataKey(material).id);
    expect(env).to.not.have.property('JHT_DATA_KEY');
    const bad: NodeJS.ProcessEnv = { JHT_DATA_KEY: 'not hex' };
    loadError(() => readConfiguredKeys(NO_FILES, bad), 'KEY_MALFORMED');
    expect(bad).to.not.have.property('JHT_DATA_KEY');
  });

  it("reads systemd's credential $CREDENTIALS_DIRECTORY/data-key (and data-key-previous); two sources of one key are refused", () => {
    const credentials = mkdtempSync(path.join(dir, 'credentials-'));
    const current = randomBytes(32);
    const previous = randomBytes(32);
    writeKeyFile(credentials, 'data-key', current, 0o400);
    writeKeyFile(credentials, 'data-key-previous', previous, 0o400);
    const ring = readConfiguredKeys(NO_FILES, { CREDENTIALS_DIRECTORY: credentials }).ringFor('real');
    expect(ring.current.id).to.equal(new DataKey(current).id);
    expect(ring.previous?.id).to.equal(new DataKey(previous).id);
    loadError(() => readConfiguredKeys(NO_FILES, { CREDENTIALS_DIRECTORY: credentials, JHT_DATA_KEY_FILE: keyFile('other') }), 'KEY_AMBIGUOUS');
    loadError(() => readConfiguredKeys({ previousDataKeyFile: keyFile('p'), verifyOnlyKeyFiles: [] }, {}), 'KEY_MISSING');
  });

  it('refuses a key in the main configuration (cardKey, JHT_CARD_KEY), saying where keys go', () => {
    const file = path.join(dir, 'inline.yaml');
    writeFileSync(file, `listen:\n  port: 9000\ncardKey: ${randomBytes(32).toString('hex')}\n`);
    const inline = expectThrows(() => loadConfig({ file, env: {} }), ConfigError);
    expect(inline.message).to.match(/inline\.yaml:3:\d+: cardKey: keys are read from files/).and.include('keys.dataKeyFile');
    expect(inline.message).to.not.match(/[0-9a-f]{32}/);
    const fromEnv = expectThrows(() => loadConfig({ env: { JHT_CARD_KEY: randomBytes(32).toString('hex') } }), ConfigError);
    expect(fromEnv.message).to.include('JHT_CARD_KEY').and.include('keys.dataKeyFile');
    const schema = expectThrows(() => loadConfig({ env: {}, file: writeYaml(dir, 'key-in-keys.yaml', 'keys:\n  dataKey: abc\n') }), ConfigError);
    expect(schema.message).to.include('keys');
  });

  it('serve and migrate --seed-demo on an external database without a real key exit 2 before connecting', async () => {
    // Nobody listens on this port: a switch that tried to connect would fail otherwise.
    const url = `postgresql://jht_switch_login:x@127.0.0.1:${await freePort()}/jht`;
    const config = writeYaml(dir, 'serve.yaml', `admin:\n  socketPath: ${path.join(dir, 'admin.sock')}\nmetrics:\n  enabled: false\n`);
    for (const args of [['serve', '--config', config], ['migrate', '--config', config, '--seed-demo', '--database-url', url]]) {
      const result = await runCli(args, undefined, { DATABASE_URL: url, JHT_DATA_KEY_FILE: '', JHT_ALLOW_ROOT: '1' });
      expect(result.status, result.stderr).to.equal(2);
      expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1);
      expect(result.stderr).to.match(/^error: no data key: .*\(KEY_MISSING\)$/m);
    }
    const publicKey = keyFile('cli-public', Buffer.alloc(32));
    const refused = await runCli(['serve', '--config', config], undefined, { DATABASE_URL: url, JHT_DATA_KEY_FILE: publicKey, JHT_ALLOW_ROOT: '1' });
    expect(refused.status, refused.stderr).to.equal(2);
    expect(refused.stderr).to.include('(KEY_PUBLIC)');
  });

  it('an embedded cluster that holds real data is refused without a real key, once its marker is read', async () => {
    const dataDir = path.join(dir, 'pg-real');
    const key = readConfiguredKeys({ dataKeyFile: keyFile('embedded'), verifyOnlyKeyFiles: [] }, {});
    const port = await freePort();
    const options = { dataDir, port, log: silentLogger(), role: 'owner' as const, serverSettings: { fsync: 'off' } };
    const first = await openDatabase({ ...options, keys: key });
    expect(first.deployment).to.equal('demo');
    await markReal(first.pool, 'test: real data arrived');
    await first.stop();
    const refused = await openDatabase({ ...options, keys: new ConfiguredKeys(undefined, []) }).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(KeyLoadError).and.have.property('code', 'KEY_MISSING');
    const again = await openDatabase({ ...options, keys: key });
    try {
      expect(again.deployment).to.equal('real');
      expect(again.keys.current.id).to.equal(key.ringFor('real').current.id);
    } finally {
      await again.stop();
    }
  });

  it('a ring handed over in code keeps its keys, and the development key stays in the demo', () => {
    const ring = new KeyRing({ current: new DataKey(randomBytes(32)) });
    expect(fixedKeySource(ring).ringFor('real')).to.equal(ring);
    expect(fixedKeySource(developmentKeyRing()).ringFor('demo').current.id).to.equal(developmentKeyRing().current.id);
  });
});

function writeYaml(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
