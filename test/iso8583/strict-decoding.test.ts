import { expect } from 'chai';
import {
  compileProfile, Iso8583DecodeError, Iso8583EncodeError, IsoMessage, Packager, ProfileError, loadProfile,
} from '../../src/iso8583/index.js';
import { INQUIRY_0200, INQUIRY_0210 } from '../fixtures/contract-messages.js';
import { expectThrows } from '../support/index.js';

const ascii = new Packager(loadProfile('iso87-ascii'));
const wire = (text: string): Buffer => Buffer.from(text, 'latin1');

const decodeError = (packager: Packager, bytes: Buffer): Iso8583DecodeError => expectThrows(() => packager.unpack(bytes), Iso8583DecodeError);
const encodeError = (message: IsoMessage): Iso8583EncodeError => expectThrows(() => ascii.pack(message), Iso8583EncodeError);

// Offsets in INQUIRY_0200.ascii: MTI 0-3, bitmap 4-19, field 2 prefix at 20, data 22-37, field 3 at 38,
// field 4 at 44, field 7 at 56.
describe('codec: strict decoding', () => {
  it('truncated data names the field and the offset, and keeps what was decoded', () => {
    const error = decodeError(ascii, wire(INQUIRY_0200.ascii.slice(0, 60)));
    expect(error.code).to.equal('ISO_TRUNCATED');
    expect(error.field).to.equal(7);
    expect(error.offset).to.equal(56);
    expect(error.partial?.get(2)).to.equal('6040990000000001');
    expect(error.partial?.get(4)).to.equal('000000000000');
    expect(error.partial?.has(7)).to.equal(false);
  });

  it('a length prefix over the maximum', () => {
    const error = decodeError(ascii, wire(INQUIRY_0200.ascii.replace('166040990000000001', '206040990000000001')));
    expect(error.code).to.equal('ISO_LENGTH_OVER_MAX');
    expect([error.field, error.offset]).to.deep.equal([2, 20]);
  });

  it('a length prefix that is not a number', () => {
    const error = decodeError(ascii, wire(INQUIRY_0200.ascii.replace('166040990000000001', '1X6040990000000001')));
    expect(error.code).to.equal('ISO_BAD_LENGTH_PREFIX');
    expect(error.field).to.equal(2);
  });

  it('a non-digit in a numeric field, at the offset of the bad byte', () => {
    const error = decodeError(ascii, wire(INQUIRY_0200.ascii.replace('6040990000000001310000', '60409900000000013100A0')));
    expect(error.code).to.equal('ISO_INVALID_CHARACTER');
    expect([error.field, error.offset]).to.deep.equal([3, 38 + 4]);
  });

  it('a bit set for a field the profile does not define', () => {
    const narrow = new Packager(compileProfile({
      name: 'narrow', description: 'test', mti: 'ascii', bitmap: 'hex',
      defaults: { numeric: 'ascii', track: 'ascii', binary: 'hex', prefix: 'ascii' },
      fields: { '3': { name: 'Processing code', type: 'n', length: 6 }, '11': { name: 'STAN', type: 'n', length: 6 } },
    }));
    const error = decodeError(narrow, wire('0200' + '2010000000000000' + '310000' + '093015'));
    expect(error.code).to.equal('ISO_UNDEFINED_FIELD');
    expect([error.field, error.offset]).to.deep.equal([12, 26]);
    expect(error.partial?.get(3)).to.equal('310000');
  });

  it('trailing bytes after the last field', () => {
    const error = decodeError(ascii, wire(`${INQUIRY_0210.ascii}XX`));
    expect(error.code).to.equal('ISO_TRAILING_BYTES');
    expect(error.offset).to.equal(INQUIRY_0210.ascii.length);
    expect(error.field).to.equal(54);
    expect(error.partial?.get(39)).to.equal('00');
  });

  it('an MTI or bitmap that cannot be decoded', () => {
    expect(decodeError(ascii, wire('02X0')).code).to.equal('ISO_BAD_MTI');
    expect(decodeError(ascii, wire('020072380401088080G0')).code).to.equal('ISO_BAD_BITMAP');
    expect(decodeError(ascii, wire('02')).code).to.equal('ISO_TRUNCATED');
  });

  it('never puts the value of a field in the error message', () => {
    const error = decodeError(ascii, wire(INQUIRY_0200.ascii.slice(0, 30)));
    expect(error.message).to.not.include('604099');
    expect(error.message).to.match(/^field 2 at offset 22: /);
  });
});

describe('codec: strict encoding', () => {
  it('a value too long is an error, never a silent cut', () => {
    const error = encodeError(new IsoMessage('0200', { 3: '3100000' }));
    expect([error.code, error.field]).to.deep.equal(['ISO_VALUE_TOO_LONG', 3]);
    expect(encodeError(new IsoMessage('0200', { 2: '6'.repeat(20) })).code).to.equal('ISO_VALUE_TOO_LONG');
  });

  it('a value of the wrong type is an error', () => {
    expect(encodeError(new IsoMessage('0200', { 11: '12345A' })).code).to.equal('ISO_INVALID_CHARACTER');
    expect(encodeError(new IsoMessage('0200', { 48: 'caf\u00e9' })).code).to.equal('ISO_INVALID_CHARACTER');
    expect(encodeError(new IsoMessage('0200', { 64: '0011223344556677Z0' })).code).to.equal('ISO_INVALID_CHARACTER');
    expect(encodeError(new IsoMessage('02A0', {})).code).to.equal('ISO_BAD_MTI');
  });

  it('pads short fixed fields as the type says: numerics left with zeros, text right with spaces', () => {
    const packed = ascii.pack(new IsoMessage('0200', { 11: '42', 41: 'ATM1' })).toString('latin1');
    expect(packed).to.equal('0200' + '0020000000800000' + '000042' + 'ATM1    ');
  });

  it('refuses a short binary field instead of padding it', () => {
    expect(encodeError(new IsoMessage('0200', { 64: '0011' })).code).to.equal('ISO_VALUE_TOO_SHORT');
  });
});

describe('codec: profiles are validated when loaded', () => {
  const base = {
    name: 'p', description: 'test', mti: 'ascii', bitmap: 'hex',
    defaults: { numeric: 'ascii', track: 'ascii', binary: 'hex', prefix: 'ascii' },
  };
  const bad = (fields: unknown): ProfileError => expectThrows(() => compileProfile({ ...base, fields }), ProfileError);

  it('names the profile and the path of the problem', () => {
    expect(bad({ '2': { name: 'PAN', type: 'q', length: 19 } }).message).to.match(/^profile p: fields\.2\.type/);
    expect(bad({ '2': { name: 'PAN', type: 'n', length: 100, prefix: 'LL' } }).path).to.equal('fields.2.length');
    expect(bad({ '48': { name: 'x', type: 'ans', length: 9, encoding: 'bcd' } }).path).to.equal('fields.48.encoding');
    expect(bad({ '1': { name: 'bitmap', type: 'b', length: 8 } }).path).to.equal('fields.1');
  });

  it('loads both shipped profiles', () => {
    expect(loadProfile('iso87-ascii').fields.filter(Boolean)).to.have.length(127);
    expect(loadProfile('iso87-binary').mti.bytes).to.equal(2);
    expect(() => loadProfile('no-such-profile')).to.throw(ProfileError, /known: iso87-ascii, iso87-binary/);
  });
});
