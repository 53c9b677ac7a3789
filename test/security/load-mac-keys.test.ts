import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { KeyLoadError } from '../../src/security/keys/index.js';
import { MacKeyError, loadMacKeys, macKeyVariable } from '../../src/security/index.js';
import {
  PUBLISHED_TEST_MAC_KCV as KCV, PUBLISHED_TEST_MAC_KEY as KEY, expectThrows, keyDirectory, runCli, withCredentials, writeKeyFile,
} from '../support/index.js';

const NEW_KEY = '404142434445464748494A4B4C4D4E4F';
const NEW_KCV = '8BAF47';

describe('security: MAC keys come from files, a credential or the environment, never the configuration', () => {
  const dir = keyDirectory();

  it('reads mac.keyFile and checks it against its KCV, naming KCVs only', () => {
    const file = writeKeyFile(dir, 'mac-a', KEY);
    expect(loadMacKeys('bank-a', { keyFile: file, kcv: KCV }, {}).kcvs).to.equal(KCV);
    const wrong = expectThrows(() => loadMacKeys('bank-a', { keyFile: file, kcv: NEW_KCV }, {}), MacKeyError, 'MAC_KCV_MISMATCH');
    expect(wrong.message).to.include(NEW_KCV).and.include(KCV).and.not.include(KEY.slice(0, 16));
  });

  it('refuses a key file others can read, and a partner with no key anywhere', () => {
    const open = writeKeyFile(dir, 'mac-open', KEY);
    chmodSync(open, 0o644);
    expectThrows(() => loadMacKeys('bank-a', { keyFile: open, kcv: KCV }, {}), KeyLoadError, 'KEY_FILE_EXPOSED');
    const missing = expectThrows(() => loadMacKeys('bank-a', { kcv: KCV }, {}), KeyLoadError, 'KEY_MISSING');
    expect(missing.message).to.include('mac-bank-a').and.include('JHT_MAC_KEY_BANK_A');
  });

  it("takes systemd's credential mac-<partner id>; two sources of one key are refused", () => {
    withCredentials({ 'mac-bank-a': KEY }, (env) => {
      expect(loadMacKeys('bank-a', { kcv: KCV }, env).current.kcv).to.equal(KCV);
      expectThrows(() => loadMacKeys('bank-a', { keyFile: writeKeyFile(dir, 'mac-twice', KEY), kcv: KCV }, env), KeyLoadError, 'KEY_AMBIGUOUS');
    });
  });

  it('takes JHT_MAC_KEY_<ID> once and deletes it from the environment; a reload of that environment keeps the key', () => {
    const env: NodeJS.ProcessEnv = { [macKeyVariable('bank-b')]: KEY };
    expect(macKeyVariable('bank-b')).to.equal('JHT_MAC_KEY_BANK_B');
    expect(loadMacKeys('bank-b', { kcv: KCV }, env).current.kcv).to.equal(KCV);
    expect(env).to.not.have.property('JHT_MAC_KEY_BANK_B');
    expect(loadMacKeys('bank-b', { kcv: KCV }, env).current.kcv, 'read again on reload').to.equal(KCV);
  });

  it('a key change: the previous key with its own KCV, both accepted; the same key twice is refused', () => {
    const current = writeKeyFile(dir, 'mac-new', NEW_KEY);
    const previous = writeKeyFile(dir, 'mac-old', KEY);
    const ring = loadMacKeys('bank-a', { keyFile: current, kcv: NEW_KCV, previousKeyFile: previous, previousKcv: KCV }, {});
    expect([ring.current.kcv, ring.previous?.kcv, ring.kcvs]).to.deep.equal([NEW_KCV, KCV, `${NEW_KCV} (previous ${KCV})`]);
    expect(JSON.stringify(ring)).to.not.include(KEY.slice(0, 16)).and.not.include(NEW_KEY.slice(0, 16));
    expectThrows(() => loadMacKeys('bank-a', { keyFile: previous, kcv: KCV, previousKeyFile: previous, previousKcv: KCV }, {}), MacKeyError, 'MAC_KEY_DUPLICATE');
    expectThrows(() => loadMacKeys('bank-a', { keyFile: current, kcv: NEW_KCV, previousKeyFile: previous }, {}), KeyLoadError, 'KEY_MISSING');
  });

  it('serve without a partner\'s MAC key exits 2 in one line naming the partner, before it opens the database', async function () {
    this.timeout(30_000);
    const config = path.join(dir, 'no-mac-key.yaml');
    writeFileSync(config, `admin: { socketPath: ${path.join(dir, 'admin.sock')} }\nmetrics: { enabled: false }\n` +
      'partners:\n  - { id: demo, name: Demo, acquirerIds: ["99901"] }\n' +
      `  - { id: bank-x, name: X, acquirerIds: ["99951"], listener: { port: 0 }, mac: { algorithm: x9.19, kcv: ${KCV} } }\n`);
    const result = await runCli(['serve', '--config', config, '--data-dir', path.join(dir, 'never-made')]);
    expect(result.status, result.stderr).to.equal(2);
    expect(result.stderr.trim()).to.match(/^error: configuration: partner "bank-x" \(partners\[1\]\): mac: no MAC key: .*JHT_MAC_KEY_BANK_X \(KEY_MISSING\)$/);
    expect(existsSync(path.join(dir, 'never-made')), 'no embedded cluster was made').to.equal(false);
  });
});
