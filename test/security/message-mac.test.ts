import { expect } from 'chai';
import fc from 'fast-check';
import { IsoMessage, Packager, compileProfile, loadProfile } from '../../src/iso8583/index.js';
import {
  MacError, MacKey, macFieldOf, macWireBytes, signMessage, verifyMessage, x919Mac,
} from '../../src/security/index.js';
import {
  INQUIRY_0200, INQUIRY_0200_BY_ACCOUNT, INQUIRY_0210, REVERSAL_0420, SIGN_ON_0800, SIGN_ON_0810, type GoldenMessage,
} from '../fixtures/contract-messages.js';
import { demo, messageOf as anyMessageOf } from '../support/index.js';

const KEY = new MacKey('0123456789ABCDEFFEDCBA9876543210', '08D7B4');
const OTHER_KEY = new MacKey('404142434445464748494A4B4C4D4E4F', '8BAF47');

const PROFILES = [
  { name: 'iso87-ascii', packager: new Packager(loadProfile('iso87-ascii')), macWire: 16 },
  { name: 'iso87-binary', packager: new Packager(loadProfile('iso87-binary')), macWire: 8 },
] as const;

/** Contract messages with and without a secondary bitmap (fields above 64: 70, 90, 102). */
const CASES: ReadonlyArray<{ golden: GoldenMessage; macField: 64 | 128 }> = [
  { golden: INQUIRY_0200, macField: 64 },
  { golden: INQUIRY_0210, macField: 64 },
  { golden: INQUIRY_0200_BY_ACCOUNT, macField: 128 },
  { golden: SIGN_ON_0800, macField: 128 },
  { golden: SIGN_ON_0810, macField: 128 },
  { golden: REVERSAL_0420, macField: 128 },
];

const messageOf = (golden: GoldenMessage): IsoMessage => new IsoMessage(golden.mti, golden.fields);

describe('security: the MAC of a message (last field: 64, or 128 with a secondary bitmap)', () => {
  it('signs the contract 0200 in field 64: MTI + bitmap with bit 64 set + fields, then 16 hex characters (hand-built bytes)', () => {
    // Independent of the codec: the contract's wire image with bit 64 (the primary bitmap's last bit) set.
    const golden = INQUIRY_0200.ascii;
    const covered = golden.slice(0, 4) + '7238040108808001' + golden.slice(20);
    const expected = covered + x919Mac(Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex'), Buffer.from(covered, 'latin1'))
      .toString('hex').toUpperCase();
    const signed = signMessage(messageOf(INQUIRY_0200), PROFILES[0].packager, KEY);
    expect(signed.toString('latin1')).to.equal(expected);
  });

  for (const { name, packager, macWire } of PROFILES) {
    describe(name, () => {
      it(`the MAC field takes ${macWire} bytes on the wire`, () => {
        expect(macWireBytes(packager, 64)).to.equal(macWire);
        expect(macWireBytes(packager, 128)).to.equal(macWire);
      });

      for (const { golden, macField } of CASES) {
        describe(`${golden.title}`, () => {
          it(`signs in field ${macField}, and the MAC is the last ${macWire} bytes of the packed message`, () => {
            const message = messageOf(golden);
            const signed = signMessage(message, packager, KEY);
            expect(message.has(macField)).to.equal(true);
            expect(message.has(macField === 64 ? 128 : 64)).to.equal(false);
            // One pack with the MAC written into the tail is the same as packing the signed message.
            expect(signed).to.deep.equal(packager.pack(message));
            const mac = Buffer.from(message.get(macField)!, 'hex');
            const tail = signed.subarray(signed.length - macWire);
            expect(macWire === 8 ? tail : Buffer.from(tail.toString('latin1'), 'hex')).to.deep.equal(mac);
            expect(mac).to.deep.equal(x919Mac(Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex'), signed.subarray(0, signed.length - macWire)));
            // The codec is lossless: the decoded message holds the same MAC in the same field.
            const decoded = packager.unpack(signed);
            expect(decoded.get(macField)).to.equal(message.get(macField));
            expect(decoded.fieldNumbers().at(-1)).to.equal(macField);
          });

          it('verifies: ok as signed, wrong when any covered field or the MAC changes, wrong under another key', () => {
            const signed = signMessage(messageOf(golden), packager, KEY);
            expect(verifyMessage(signed, packager.unpack(signed), packager, KEY)).to.equal('ok');
            expect(verifyMessage(signed, packager.unpack(signed), packager, OTHER_KEY)).to.equal('wrong');

            const tampered = packager.unpack(signed).set(11, '999999');
            const tamperedBytes = packager.pack(tampered);
            expect(verifyMessage(tamperedBytes, tampered, packager, KEY)).to.equal('wrong');

            for (const bit of [0, 7, 63]) {
              const flipped = packager.unpack(signed);
              const field = macFieldOf(flipped);
              const mac = Buffer.from(flipped.get(field)!, 'hex');
              mac.writeUInt8(mac.readUInt8(bit >> 3) ^ (0x80 >> (bit & 7)), bit >> 3);
              flipped.set(field, mac.toString('hex').toUpperCase());
              expect(verifyMessage(packager.pack(flipped), flipped, packager, KEY)).to.equal('wrong');
            }
          });

          it(`is missing when field ${macField} is absent, even if the other MAC field is there`, () => {
            const unsigned = messageOf(golden);
            expect(verifyMessage(packager.pack(unsigned), unsigned, packager, KEY)).to.equal('missing');
            if (macField === 128) {
              // A MAC in 64 of a message with a secondary bitmap is not the last field: not a MAC.
              const misplaced = messageOf(golden).set(64, '0123456789ABCDEF');
              expect(verifyMessage(packager.pack(misplaced), misplaced, packager, KEY)).to.equal('missing');
            }
          });
        });
      }

      it('moves a stale MAC: a message signed in 64 that gains a field above 64 is re-signed in 128', () => {
        const message = messageOf(INQUIRY_0200);
        signMessage(message, packager, KEY);
        message.set(102, demo.account);
        const signed = signMessage(message, packager, KEY);
        expect(message.has(64)).to.equal(false);
        expect(message.has(128)).to.equal(true);
        expect(verifyMessage(signed, packager.unpack(signed), packager, KEY)).to.equal('ok');
      });

      it('any message of the profile: signed, its MAC is the last field and the last bytes, and it verifies', () => {
        fc.assert(fc.property(anyMessageOf(packager.profile), (message) => {
          const signed = signMessage(message, packager, KEY);
          const decoded = packager.unpack(signed);
          const field = macFieldOf(decoded);
          expect(decoded.fieldNumbers().at(-1)).to.equal(field);
          expect(signed).to.deep.equal(packager.pack(message));
          expect(verifyMessage(signed, decoded, packager, KEY)).to.equal('ok');
        }), { numRuns: 300 });
      });

      it('refuses to verify a message that was not decoded from the bytes given', () => {
        const a = signMessage(messageOf(INQUIRY_0200), packager, KEY);
        const other = messageOf(INQUIRY_0210);
        signMessage(other, packager, OTHER_KEY);
        expect(() => verifyMessage(a, other, packager, KEY)).to.throw(MacError).with.property('code', 'MAC_MESSAGE_MISMATCH');
      });
    });
  }

  it('iso87-ascii: the MAC covers the bytes as received (a lower-case bitmap), and lower-case MAC hex is accepted', () => {
    const { packager } = PROFILES[0];
    const signed = signMessage(messageOf(INQUIRY_0210), packager, KEY).toString('latin1');
    // A partner that sends its bitmap in lower case MACs those bytes; re-encoding would make them upper case.
    const asSent = signed.slice(0, 4) + signed.slice(4, 20).toLowerCase() + signed.slice(20, -16);
    const mac = KEY.mac(Buffer.from(asSent, 'latin1')).toString('hex'); // lower case
    const wire = Buffer.from(asSent + mac, 'latin1');
    expect(wire.equals(packager.pack(packager.unpack(wire)))).to.equal(false);
    expect(verifyMessage(wire, packager.unpack(wire), packager, KEY)).to.equal('ok');
  });

  it('refuses a profile whose MAC field is not fixed 8-byte binary, with a typed error', () => {
    const profile = compileProfile({
      name: 'no-mac', description: 'test', mti: 'ascii', bitmap: 'hex',
      defaults: { numeric: 'ascii', track: 'ascii', binary: 'hex', prefix: 'ascii' },
      fields: { 11: { name: 'STAN', type: 'n', length: 6 }, 64: { name: 'not a MAC', type: 'ans', length: 8 } },
    });
    const packager = new Packager(profile);
    const message = new IsoMessage('0800', { 11: '000001' });
    expect(() => signMessage(message, packager, KEY)).to.throw(MacError).with.property('code', 'MAC_FIELD_UNSUPPORTED');
    expect(() => macWireBytes(packager, 128)).to.throw(MacError).with.property('code', 'MAC_FIELD_UNSUPPORTED');
  });
});
