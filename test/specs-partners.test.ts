import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { configuredLinks } from '../src/config/check-links.js';
import { linkSecurityProblem } from '../src/config/link-security.js';
import { loadConfig } from '../src/config/load-config.js';
import type { PartnerConfig, SwitchConfig } from '../src/config/schema.js';
import { loadProfile } from '../src/iso8583/index.js';
import { loadMacKeys } from '../src/security/index.js';
import { PUBLISHED_TEST_MAC_KEY, withCredentials } from './support/index.js';
import { AllowList, createFraming } from '../src/transport/index.js';

const FILE = join(fileURLToPath(new URL('..', import.meta.url)), 'specs/partners.example.yaml');

describe('specs/partners.example.yaml', () => {
  let config: SwitchConfig;
  const partner = (id: string): PartnerConfig => config.partners.find((p) => p.id === id)!;

  before(() => {
    config = loadConfig({ file: FILE, env: {} });
  });

  it('loads with loadConfig: the demo partner and two example banks', () => {
    expect(config.partners.map((p) => p.id)).to.deep.equal(['demo', 'bank-a', 'bank-b']);
  });

  it('keeps the contract\'s demo partner: acquirer 99901 on the shared listener, from loopback, defaults otherwise', () => {
    const demo = partner('demo');
    expect(demo.acquirerIds).to.deep.equal(['99901']);
    expect(demo.listener).to.equal(undefined);
    expect(demo.dialOut).to.equal(undefined);
    expect(demo.framing).to.deep.equal({ type: 'binary-2', headerCountsItself: false });
    expect(demo.profile).to.equal('iso87-ascii');
    expect(demo.mac).to.deep.equal({ algorithm: 'none' });
    expect(demo.signOnRequired).to.equal(true);
    expect(new AllowList(demo.allowFrom).allows('127.0.0.1')).to.equal(true);
    expect(config.listen).to.deep.equal({ host: '127.0.0.1', port: 8583 });
  });

  it('has a bank on its own mutual-TLS listener with ascii-4 framing and an X9.19 MAC whose KCV matches', () => {
    const bank = partner('bank-a');
    expect(bank.listener).to.not.equal(undefined);
    expect(bank.framing.type).to.equal('ascii-4');
    expect(bank.profile).to.equal('iso87-ascii');
    expect(bank.tls?.clientSubject).to.equal('bank-a');
    const { mac } = bank;
    expect(mac.algorithm).to.equal('x9.19');
    if (mac.algorithm !== 'x9.19') return;
    // No key in the file: it comes from the partner's systemd credential, here the published test key.
    withCredentials({ 'mac-bank-a': PUBLISHED_TEST_MAC_KEY }, (env) => expect(loadMacKeys(bank.id, mac, env).current.kcv).to.equal(mac.kcv));
    expect(bank.limits.requestsPerSecond).to.be.a('number');
  });

  it('has a dial-out bank with TPDU framing and iso87-binary, over TLS (no plaintext link outside loopback)', () => {
    const bank = partner('bank-b');
    expect(bank.dialOut).to.not.equal(undefined);
    expect(bank.dialOut?.insecure).to.equal(undefined);
    expect(bank.tls?.caFile).to.be.a('string');
    for (const link of configuredLinks(config)) expect(linkSecurityProblem(link), link.key).to.equal(undefined);
    expect(bank.listener).to.equal(undefined);
    expect(bank.framing.type).to.equal('binary-2-tpdu');
    expect(bank.profile).to.equal('iso87-binary');
  });

  it('names only framings and profiles that exist', () => {
    for (const p of config.partners) {
      expect(() => createFraming({ name: p.framing.type, lengthIncludesHeader: p.framing.headerCountsItself }), p.id).not.to.throw();
      expect(() => loadProfile(p.profile), p.id).not.to.throw();
      expect(() => new AllowList(p.allowFrom), p.id).not.to.throw();
    }
  });

  it('does not set mac.field: the MAC is the last field, 64 or 128 (specs/INTERFACE.md section 7)', () => {
    const raw = parseYaml(readFileSync(FILE, 'utf8')) as { partners: { mac?: Record<string, unknown> }[] };
    for (const p of raw.partners) expect(p.mac ?? {}).not.to.have.property('field');
  });
});
