import { expect } from 'chai';
import { Writable } from 'node:stream';
import { format, inspect } from 'node:util';
import { createLogger } from '../../src/observability/logger.js';
import { cbcLastBlock, ecbEncryptBlock, ZERO_BLOCK } from '../../src/security/des.js';
import { MacKey, MacKeyError, keyCheckValue, x919Mac } from '../../src/security/index.js';
import { expectThrows } from '../support/index.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The key of ISO/IEC 9797-1 Annex B and of the classic X9.19 example: K = 0123456789ABCDEF, K' = FEDCBA9876543210. */
const ISO_KEY = '0123456789ABCDEFFEDCBA9876543210';
const ISO_KEY_KCV = '08D7B4';

describe('security: DES through OpenSSL 3 (single DES emulated as EDE with K|K)', () => {
  // Published single-DES known answers (the ECB set of OpenSSL's destest.c, from the NBS validation tables).
  const vectors: ReadonlyArray<[key: string, plain: string, cipher: string]> = [
    ['0000000000000000', '0000000000000000', '8CA64DE9C1B123A7'],
    ['FFFFFFFFFFFFFFFF', 'FFFFFFFFFFFFFFFF', '7359B2163E4EDC58'],
    ['3000000000000000', '1000000000000001', '958E6E627A05557B'],
    ['0123456789ABCDEF', '1111111111111111', '17668DFC7292532D'],
  ];
  for (const [key, plain, cipher] of vectors) {
    it(`DES(${key}, ${plain}) = ${cipher}`, () => {
      expect(ecbEncryptBlock(hex(key), hex(plain)).toString('hex').toUpperCase()).to.equal(cipher);
    });
  }

  it('single-DES CBC-MAC = ISO 9797-1 algorithm 1 / ANSI X9.9 ("Now is the time for all " -> 70A30640CC76DD8B)', () => {
    const mac = cbcLastBlock(hex('0123456789ABCDEF'), ZERO_BLOCK, ascii('Now is the time for all '));
    expect(mac.toString('hex').toUpperCase()).to.equal('70A30640CC76DD8B');
  });

  it('refuses a key that is not 8, 16 or 24 bytes, with a typed error', () => {
    expect(() => ecbEncryptBlock(Buffer.alloc(10), ZERO_BLOCK)).to.throw(MacKeyError).with.property('code', 'MAC_KEY_MALFORMED');
  });
});

describe('security: ANSI X9.19 retail MAC (ISO 9797-1 algorithm 3, padding method 1)', () => {
  const vectors: ReadonlyArray<{ source: string; key: string; data: Buffer; mac: string }> = [
    {
      source: 'ISO/IEC 9797-1 Annex B.4, data string 1 (24 bytes, no padding)',
      key: ISO_KEY, data: ascii('Now is the time for all '), mac: 'A1C72E74EA3FA9B6',
    },
    {
      source: 'ISO/IEC 9797-1 Annex B.4, data string 2 (22 bytes, zero-padded)',
      key: ISO_KEY, data: ascii('Now is the time for it'), mac: '2E2B1428CC78254F',
    },
    {
      source: 'rkbalgi/libiso X9.19 test 1 (another key, 4 blocks)',
      key: '76850752AD7307ADE554D06D3BA73279', data: hex('8155ADCC76B2FB0064F2C40037710477CE13C4BF75FD3DADF13B6D137AC1B915'),
      mac: 'B2A45602664C486F',
    },
    { source: 'rkbalgi/libiso X9.19 test 2 (one block)', key: '76850752AD7307ADE554D06D3BA73279', data: hex('D3DADF13B6D137AC'), mac: '6A3307CAA14EB06A' },
    { source: 'rkbalgi/libiso X9.19 test 3 (11 bytes, padded)', key: '76850752AD7307ADE554D06D3BA73279', data: hex('D3DADF13B6D137ACDF13B6'), mac: '8B34B5BEAF1087A0' },
    { source: 'rkbalgi/libiso X9.19 test 4 (3 bytes, padded)', key: '76850752AD7307ADE554D06D3BA73279', data: hex('D3DADF'), mac: 'C66CA5DE6E324EDF' },
  ];
  for (const v of vectors) {
    it(`${v.source}: ${v.mac}`, () => {
      expect(x919Mac(hex(v.key), v.data).toString('hex').toUpperCase()).to.equal(v.mac);
    });
  }

  it('pads with zeros: data and data + zero bytes up to the block boundary have the same MAC', () => {
    const key = hex(ISO_KEY);
    expect(x919Mac(key, ascii('Now is the time for it\0\0'))).to.deep.equal(x919Mac(key, ascii('Now is the time for it')));
  });

  it('MACs empty data as one zero block', () => {
    const key = hex(ISO_KEY);
    expect(x919Mac(key, Buffer.alloc(0))).to.deep.equal(x919Mac(key, Buffer.alloc(8)));
  });

  it('is the retail construction: single DES CBC under K1, then decrypt K2 / encrypt K1 on the last block only', () => {
    // With K2 = K1 the output transformation cancels out and algorithm 3 collapses to algorithm 1.
    const k1 = hex('0123456789ABCDEF');
    const data = ascii('Now is the time for all ');
    expect(x919Mac(Buffer.concat([k1, k1]), data)).to.deep.equal(cbcLastBlock(k1, ZERO_BLOCK, data));
  });

  it('refuses a key that is not double-length', () => {
    expect(() => x919Mac(Buffer.alloc(8), Buffer.alloc(8))).to.throw(MacKeyError).with.property('code', 'MAC_KEY_MALFORMED');
    expect(() => x919Mac(Buffer.alloc(24), Buffer.alloc(8))).to.throw(MacKeyError).with.property('code', 'MAC_KEY_MALFORMED');
  });
});

describe('security: key check values', () => {
  const vectors: ReadonlyArray<[what: string, key: string, kcv: string]> = [
    ['the ISO 9797-1 / X9.19 example key (double length)', ISO_KEY, ISO_KEY_KCV],
    ['the GlobalPlatform default key 40..4F (double length)', '404142434445464748494A4B4C4D4E4F', '8BAF47'],
    ['0123456789ABCDEF (single length)', '0123456789ABCDEF', 'D5D44F'],
    ['the same key as double length K|K (same KCV as single)', '0123456789ABCDEF0123456789ABCDEF', 'D5D44F'],
    ['the same key as triple length K|K|K', '0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF', 'D5D44F'],
  ];
  for (const [what, key, kcv] of vectors) {
    it(`${what}: ${kcv}`, () => expect(keyCheckValue(hex(key))).to.equal(kcv));
  }
});

describe('security: MacKey', () => {
  it('holds a key whose check value matches (KCV given in either case) and MACs with it', () => {
    const key = new MacKey(ISO_KEY.toLowerCase(), ISO_KEY_KCV.toLowerCase());
    expect(key.kcv).to.equal(ISO_KEY_KCV);
    expect(key.mac(ascii('Now is the time for all ')).toString('hex').toUpperCase()).to.equal('A1C72E74EA3FA9B6');
  });

  it('refuses a key that does not match its KCV, naming both KCVs and never the key', () => {
    const e = expectThrows(() => new MacKey(ISO_KEY, '8BAF47'), MacKeyError, 'MAC_KCV_MISMATCH');
    expect(e.expectedKcv).to.equal('8BAF47');
    expect(e.computedKcv).to.equal(ISO_KEY_KCV);
    expect(e.message).to.contain('8BAF47').and.to.contain(ISO_KEY_KCV);
    expectNoKeyMaterial(e.message + JSON.stringify(e) + inspect(e, { showHidden: true, depth: 5 }), ISO_KEY);
  });

  it('refuses a malformed key without quoting it', () => {
    const typo = ISO_KEY.slice(0, 31) + 'G';
    expect(() => new MacKey(typo, ISO_KEY_KCV)).to.throw(MacKeyError).that.satisfies((e: MacKeyError) =>
      e.code === 'MAC_KEY_MALFORMED' && !e.message.includes(typo.slice(0, 16)));
    expect(() => new MacKey(ISO_KEY.slice(0, 16), ISO_KEY_KCV)).to.throw(MacKeyError).with.property('code', 'MAC_KEY_MALFORMED');
  });

  it('refuses a malformed KCV', () => {
    expect(() => new MacKey(ISO_KEY, '08D7B')).to.throw(MacKeyError).with.property('code', 'MAC_KCV_MALFORMED');
  });

  it('refuses a double-length key whose halves are equal (single DES in disguise)', () => {
    expect(() => new MacKey('0123456789ABCDEF0123456789ABCDEF', 'D5D44F')).to.throw(MacKeyError).with.property('code', 'MAC_KEY_WEAK');
  });

  it('shows only the algorithm and the KCV, however it is printed or logged', () => {
    const key = new MacKey(ISO_KEY, ISO_KEY_KCV);
    expect(JSON.parse(JSON.stringify(key))).to.deep.equal({ algorithm: 'x9.19', kcv: ISO_KEY_KCV });
    expect(String(key)).to.equal('MacKey(x9.19, KCV 08D7B4)');
    const lines: string[] = [];
    const log = createLogger({ destination: new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } }) });
    log.info({ partner: { id: 'bank-a', mac: key }, key }, 'partner loaded');
    log.info({ partner: { macKey: key } }, `using ${key}`);
    const printed = [
      JSON.stringify(key), JSON.stringify({ partner: { mac: key } }), inspect(key), inspect(key, { showHidden: true, depth: 10 }),
      inspect({ nested: { key } }, { showHidden: true }), format('%o %O %s %j', key, key, key, key), `${key}`,
      JSON.stringify(Object.assign({}, key)), JSON.stringify(structuredClone(key)), ...lines,
    ].join('\n');
    expect(printed).to.contain(ISO_KEY_KCV);
    expectNoKeyMaterial(printed, ISO_KEY);
  });
});

/** Neither the key nor either half, in any case or as base64, appears in `text`. */
function expectNoKeyMaterial(text: string, keyHex: string): void {
  const lower = text.toLowerCase();
  for (const part of [keyHex, keyHex.slice(0, 16), keyHex.slice(16)]) {
    expect(lower).not.to.contain(part.toLowerCase());
    expect(text).not.to.contain(Buffer.from(part, 'hex').toString('base64').slice(0, 10));
  }
}
