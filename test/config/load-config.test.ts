import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { expectThrows } from '../support/index.js';

describe('config', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-config-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function file(name: string, text: string): Promise<string> {
    const at = path.join(dir, name);
    await writeFile(at, text);
    return at;
  }

  function fileSync(name: string, text: string): string {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  }

  const configError = (load: () => unknown): ConfigError => expectThrows(load, ConfigError);

  it('without a file: the contract (127.0.0.1:8583, the demo partner 99901 from loopback, sign-on required)', () => {
    const config = loadConfig({ env: {} });
    expect(config.listen).to.deep.equal({ host: '127.0.0.1', port: 8583 });
    expect(config.ledger.timeoutMs).to.equal(250);
    expect(config.partners).to.have.length(1);
    expect(config.partners[0]).to.deep.include({ id: 'demo', acquirerIds: ['99901'], allowFrom: ['127.0.0.1', '::1'], signOnRequired: true, profile: 'iso87-ascii' });
  });

  it('reads YAML and JSON; the environment and the command line override the file', async () => {
    const yaml = await file('switch.yaml', 'listen:\n  port: 9000\nledger:\n  timeoutMs: 100\n');
    const json = await file('switch.json', JSON.stringify({ listen: { port: 9001 } }));
    expect(loadConfig({ file: yaml, env: {} }).listen.port).to.equal(9000);
    expect(loadConfig({ file: yaml, env: {} }).ledger.timeoutMs).to.equal(100);
    expect(loadConfig({ env: { JHT_CONFIG: json } }).listen.port).to.equal(9001);
    const overridden = loadConfig({ file: yaml, env: { DATABASE_URL: 'postgresql://u@127.0.0.1/x', JHT_LOG_LEVEL: 'debug' }, overrides: { port: 9100 } });
    expect([overridden.listen.port, overridden.database.url, overridden.log.level]).to.deep.equal([9100, 'postgresql://u@127.0.0.1/x', 'debug']);
  });

  it('errors name the partner and the key', async () => {
    const bad = await file('bad.yaml', 'partners:\n  - id: demo\n    name: Demo\n    acquirerIds: ["99901"]\n  - id: bank-b\n    name: B\n    acquirerIds: ["99902"]\n    framing: { type: carrier-pigeon }\n');
    const error = configError(() => loadConfig({ file: bad, env: {} }));
    expect(error.message).to.match(/^.*bad\.yaml:8:22: partner "bank-b" \(partners\[1\]\): framing\.type: /);
    expect(configError(() => loadConfig({ file: 'nope.yaml', env: {} })).message).to.match(/cannot read/);
    const broken = await file('broken.json', '{ "listen": ');
    expect(configError(() => loadConfig({ file: broken, env: {} })).message).to.match(/not valid JSON/);
  });

  it('refuses what would let a partner act as another', async () => {
    const twice = await file('twice.yaml', 'partners:\n  - { id: a, name: A, acquirerIds: ["1"] }\n  - { id: b, name: B, acquirerIds: ["1"], listener: { port: 9500 } }\n');
    expect(configError(() => loadConfig({ file: twice, env: {} })).message).to.include('1 already belongs to partner "a"');
    const overlap = await file('overlap.yaml', 'partners:\n  - { id: a, name: A, acquirerIds: ["1"] }\n  - { id: b, name: B, acquirerIds: ["2"] }\n');
    expect(configError(() => loadConfig({ file: overlap, env: {} })).message).to.include('127.0.0.1 is also allowed for partner "a"');
    const tlsShared = await file('tls.yaml', 'partners:\n  - { id: a, name: A, acquirerIds: ["1"], tls: { keyFile: k, certFile: c, caFile: ca, clientSubject: a } }\n');
    expect(configError(() => loadConfig({ file: tlsShared, env: {} })).message).to.include('mutual TLS needs a listener of its own');
  });

  it('refuses a MAC key in the configuration, saying where MAC keys go, and never prints the key', async () => {
    const key = '0123456789ABCDEFFEDCBA9876543210';
    const inline = await file('mac.yaml', `partners:\n  - { id: a, name: A, acquirerIds: ["1"], listener: { port: 9600 }, mac: { algorithm: x9.19, key: ${key}, kcv: 08D7B4 } }\n`);
    const error = configError(() => loadConfig({ file: inline, env: {} }));
    expect(error.message).to.match(/mac\.yaml:2:\d+: partner "a" \(partners\[0\]\): mac\.key: MAC keys are read from files/);
    expect(error.message).to.include('mac.keyFile').and.include('$CREDENTIALS_DIRECTORY/mac-<partner id>');
    expect(error.message).to.not.include(key.slice(0, 16));
    const half = await file('mac-half.yaml', 'partners:\n  - { id: a, name: A, acquirerIds: ["1"], listener: { port: 9600 }, mac: { algorithm: x9.19, kcv: 08D7B4, previousKeyFile: old } }\n');
    expect(configError(() => loadConfig({ file: half, env: {} })).message).to.include('previousKeyFile and previousKcv go together');
  });
  it('a syntax error names the file, line and column, never the line itself (it may hold a MAC key)', async () => {
    const key = '0123456789ABCDEFFEDCBA9876543210';
    const yaml = await file('syntax.yaml', `partners:\n  - id: a\n    mac: { algorithm: x9.19, key: ${key}, kcv: 08D7B4\n  bad: [\n`);
    const error = configError(() => loadConfig({ file: yaml, env: {} }));
    expect(error.message).to.match(/syntax\.yaml:4:3: not valid YAML \(BAD_INDENT\)$/);
    expect(error.message).to.not.include(key.slice(0, 8));
    expect(error.position).to.deep.equal({ line: 4, col: 3 });
    const json = await file('syntax.json', `{\n  "partners": [{ "mac": { "key": "${key}" x } }]\n}\n`);
    const jsonError = configError(() => loadConfig({ file: json, env: {} }));
    expect(jsonError.message).to.match(/syntax\.json:2:\d+: not valid JSON$/);
    expect(jsonError.message).to.not.include(key.slice(0, 8));
  });

  it('a validation error names the line and column of the key', async () => {
    const bad = await file('where.yaml', 'listen:\n  port: 9000\npartners:\n  - id: demo\n    name: Demo\n    acquirerIds: ["99901"]\n    framing:\n      type: carrier-pigeon\n');
    expect(configError(() => loadConfig({ file: bad, env: {} })).message)
      .to.match(/where\.yaml:8:13: partner "demo" \(partners\[0\]\): framing\.type: /);
  });
  it('acquirer IDs are kept without leading zeros, so 99901 and 099901 are one acquirer', async () => {
    const zeros = await file('zeros.yaml', 'partners:\n  - { id: a, name: A, acquirerIds: ["008", "99901"] }\n');
    expect(loadConfig({ file: zeros, env: {} }).partners[0]!.acquirerIds).to.deep.equal(['8', '99901']);
    const both = await file('both.yaml', 'partners:\n  - { id: a, name: A, acquirerIds: ["99901"] }\n  - { id: b, name: B, acquirerIds: ["099901"], listener: { port: 9501 } }\n');
    expect(configError(() => loadConfig({ file: both, env: {} })).message).to.include('99901 already belongs to partner "a"');
    const twice = await file('twice-own.yaml', 'partners:\n  - { id: a, name: A, acquirerIds: ["8", "0008"] }\n');
    expect(configError(() => loadConfig({ file: twice, env: {} })).message).to.include('8 is listed twice');
  });

  it('refuses overlapping CIDRs of two partners on the shared listener', async () => {
    const refused = (allowA: string, allowB: string): string => {
      const text = `partners:\n  - { id: a, name: A, acquirerIds: ["1"], allowFrom: ${allowA} }\n  - { id: b, name: B, acquirerIds: ["2"], allowFrom: ${allowB} }\n`;
      return configError(() => loadConfig({ file: fileSync('cidr.yaml', text), env: {} })).message;
    };
    expect(refused('["10.0.0.0/8"]', '["10.1.2.3"]')).to.include('10.1.2.3 overlaps 10.0.0.0/8, which is also allowed for partner "a"');
    expect(refused('["10.1.2.0/24"]', '["192.168.0.1", "10.0.0.0/8"]')).to.include('10.0.0.0/8 overlaps 10.1.2.0/24');
    expect(refused('["2001:db8::/32"]', '["2001:db8:1::5"]')).to.include('overlaps 2001:db8::/32');
    expect(refused('["10.0.0.1"]', '["::ffff:10.0.0.1"]')).to.include('overlaps 10.0.0.1');
    const apart = fileSync('apart.yaml', 'partners:\n  - { id: a, name: A, acquirerIds: ["1"], allowFrom: ["10.0.0.0/16"] }\n  - { id: b, name: B, acquirerIds: ["2"], allowFrom: ["10.1.0.0/16", "::1"] }\n');
    expect(loadConfig({ file: apart, env: {} }).partners).to.have.length(2);
    const own = fileSync('own.yaml', 'partners:\n  - { id: a, name: A, acquirerIds: ["1"], allowFrom: ["10.0.0.0/8"] }\n  - { id: b, name: B, acquirerIds: ["2"], allowFrom: ["10.1.2.3"], listener: { port: 9502 } }\n');
    expect(loadConfig({ file: own, env: {} }).partners).to.have.length(2);
  });
});
