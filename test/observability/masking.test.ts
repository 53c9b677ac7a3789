import { expect } from 'chai';
import { IsoMessage, Iso8583DecodeError, Packager, SENSITIVE_FIELDS, loadProfile, maskPan } from '../../src/iso8583/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { LogCapture } from '../support/switch-harness.js';

const PAN = '6040990000000001';
const TRACK2 = '6040990000000001=29121011234567890';
const PIN_BLOCK = '0412AC89ABCDEF67';
const ICC = '9F2608C2C9B2D7E1A0F3B5';
const ACCOUNT = '1234567890';

function cardMessage(): IsoMessage {
  return new IsoMessage('0200', {
    2: PAN, 3: '310000', 7: '1124093015', 11: '000123', 32: '99901', 35: TRACK2, 41: 'ATM00001', 52: PIN_BLOCK,
    55: ICC, 102: ACCOUNT,
  });
}

/** A frame that fails to decode at field 41, after 2, 35 and 52 were read: the error's `partial` holds them. */
function decodeError(): Iso8583DecodeError {
  const packager = new Packager(loadProfile('iso87-ascii'));
  const message = cardMessage();
  message.delete(55).delete(102);
  const packed = packager.pack(message);
  try {
    packager.unpack(packed.subarray(0, packed.length - 20));
  } catch (error) {
    if (error instanceof Iso8583DecodeError) return error;
    throw error;
  }
  throw new Error('expected a decode error');
}

function expectNoCardData(text: string): void {
  for (const secret of [PAN, TRACK2, TRACK2.split('=')[1]!, PIN_BLOCK, ICC, ACCOUNT]) expect(text).to.not.include(secret);
}

describe('observability: messages and errors are masked in every log line', () => {
  it('a deliberate log.error({ request }) writes the message masked', () => {
    const logs = new LogCapture();
    const log = createLogger({ destination: logs });
    log.error({ request: cardMessage(), response: cardMessage() }, 'deliberate');
    log.error({ message: cardMessage(), answer: cardMessage() }, 'deliberate');
    expect(logs.lines).to.have.length(2);
    expectNoCardData(logs.text);
    const line = JSON.parse(logs.lines[0]!) as { request: { mti: string; fields: Record<string, string> } };
    expect(line.request.mti).to.equal('0200');
    expect(line.request.fields['11']).to.equal('000123');
    expect(line.request.fields['102']).to.equal('******7890');
  });

  it('log.error({ err }) on a decode error does not print the fields decoded so far', () => {
    const error = decodeError();
    expect(error.partial?.get(2)).to.equal(PAN);
    expect(Object.keys(error)).to.not.include('partial');
    const logs = new LogCapture();
    const log = createLogger({ destination: logs });
    log.error({ err: error }, 'decode failed');
    log.error({ err: new Error('wrapped', { cause: error }) }, 'decode failed, wrapped');
    // An error carrying a message as its own property, and one nested in a plain object.
    log.error({ err: Object.assign(new Error('with a message'), { request: cardMessage(), details: { answer: cardMessage() } }) }, 'x');
    expect(logs.lines).to.have.length(3);
    expectNoCardData(logs.text);
    expect(JSON.parse(logs.lines[0]!)).to.deep.include({ msg: 'decode failed' });
    expect(logs.text).to.include('604099******0001');
  });

  it('JSON.stringify of a message masks it; toUnmaskedJSON is the explicit way to the clear values', () => {
    expectNoCardData(JSON.stringify({ nested: [cardMessage()] }));
    expect(cardMessage().toJSON().fields['2']).to.equal('604099******0001');
    expect(cardMessage().toUnmaskedJSON().fields['2']).to.equal(PAN);
  });

  it('the masking table covers every field the profiles mark sensitive', () => {
    for (const name of ['iso87-ascii', 'iso87-binary']) {
      const profile = loadProfile(name);
      for (const [n, packer] of Object.entries(profile.fields)) {
        if (packer?.spec.sensitive) expect(SENSITIVE_FIELDS[Number(n)], `${name} field ${n}`).to.equal(packer.spec.sensitive);
      }
    }
  });

  it('a PAN shorter than 15 digits shows its last 4 only', () => {
    expect(maskPan('6040990000001')).to.equal('*********0001');
    expect(maskPan('60409900000001')).to.equal('**********0001');
    expect(maskPan('604099000000001')).to.equal('604099*****0001');
    expect(maskPan(PAN)).to.equal('604099******0001');
  });
});
