import { expect } from 'chai';
import { IsoMessage, Packager, loadProfile } from '../../src/iso8583/index.js';
import { CONTRACT_MESSAGES, INQUIRY_0200, INQUIRY_0210 } from '../fixtures/contract-messages.js';

const ascii = new Packager(loadProfile('iso87-ascii'));
const binary = new Packager(loadProfile('iso87-binary'));

describe('codec: golden vectors of the contract (iso87-ascii)', () => {
  for (const golden of CONTRACT_MESSAGES) {
    it(`${golden.title}: packs to the contract's bytes and unpacks back`, () => {
      const wire = Buffer.from(golden.ascii, 'latin1');
      expect(ascii.pack(new IsoMessage(golden.mti, golden.fields)).toString('latin1')).to.equal(golden.ascii);
      const decoded = ascii.unpack(wire);
      expect(decoded.mti).to.equal(golden.mti);
      expect(decoded.toUnmaskedJSON().fields).to.deep.equal(
        Object.fromEntries(Object.entries(golden.fields).map(([k, v]) => [String(k), v])),
      );
    });
  }

  it('accepts a lower-case hex bitmap and emits upper case', () => {
    const lower = INQUIRY_0210.ascii.replace('723800010A818400', '723800010a818400');
    const decoded = ascii.unpack(Buffer.from(lower, 'latin1'));
    expect(ascii.pack(decoded).toString('latin1')).to.equal(INQUIRY_0210.ascii);
  });

  it('emits the secondary bitmap only when a field above 64 is present', () => {
    const primaryOnly = ascii.pack(new IsoMessage('0800', { 7: '1124093015', 11: '000001' })).toString('latin1');
    expect(primaryOnly).to.equal('0800' + '0220000000000000' + '1124093015' + '000001');
  });
});

describe('codec: golden vectors (iso87-binary, as jPOS ISO87BPackager)', () => {
  it('0200: BCD MTI, binary bitmap, BCD numerics and LL prefixes, ASCII text', () => {
    const expected =
      '0200' + '7238040108808000' + '16' + '6040990000000001' + '310000' + '000000000000' + '1124093015' +
      '000123' + '093015' + '1124' + '0051' /* n3 left-padded nibble */ + '05' + '999010' /* odd LLNUM right-padded */ +
      Buffer.from('432809000123ATM00001360', 'latin1').toString('hex');
    const packed = binary.pack(new IsoMessage(INQUIRY_0200.mti, INQUIRY_0200.fields));
    expect(packed.toString('hex').toUpperCase()).to.equal(expected.toUpperCase());
    expect(binary.unpack(packed).toUnmaskedJSON()).to.deep.equal(new IsoMessage(INQUIRY_0200.mti, INQUIRY_0200.fields).toUnmaskedJSON());
  });

  it('0800 with field 70: two 8-byte bitmaps', () => {
    const packed = binary.pack(new IsoMessage('0800', { 7: '1124093015', 11: '000001', 70: '001' }));
    expect(packed.toString('hex').toUpperCase()).to.equal('0800' + '8220000000000000' + '0400000000000000' + '1124093015' + '000001' + '0001');
  });
});
