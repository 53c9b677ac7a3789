import { expect } from 'chai';
import fc from 'fast-check';
import { Iso8583DecodeError, Packager, loadProfile } from '../../src/iso8583/index.js';
import { CONTRACT_MESSAGES } from '../fixtures/contract-messages.js';
import { messageOf } from '../support/index.js';

for (const name of ['iso87-ascii', 'iso87-binary']) {
  describe(`codec: properties (${name})`, () => {
    const packager = new Packager(loadProfile(name));

    it('unpack(pack(m)) equals m for any message of valid values', () => {
      fc.assert(
        fc.property(messageOf(packager.profile), (message) => {
          expect(packager.unpack(packager.pack(message)).toUnmaskedJSON()).to.deep.equal(message.toUnmaskedJSON());
        }),
        { numRuns: 500 },
      );
    });

    it('pack(unpack(bytes)) gives back the same bytes', () => {
      fc.assert(
        fc.property(messageOf(packager.profile), (message) => {
          const bytes = packager.pack(message);
          expect(packager.pack(packager.unpack(bytes)).equals(bytes)).to.equal(true);
        }),
        { numRuns: 300 },
      );
    });
  });
}

describe('codec: fuzzing', () => {
  const ascii = new Packager(loadProfile('iso87-ascii'));
  const binary = new Packager(loadProfile('iso87-binary'));
  const seeds = CONTRACT_MESSAGES.map((m) => Buffer.from(m.ascii, 'latin1'));

  /** Only the codec's own error may escape, whatever the bytes. */
  function decodeOrCodecError(packager: Packager, bytes: Buffer): void {
    try {
      packager.unpack(bytes);
    } catch (error) {
      if (!(error instanceof Iso8583DecodeError)) throw error;
      expect(error.offset).to.be.within(0, bytes.length);
    }
  }

  it('random buffers never throw anything but a decode error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        decodeOrCodecError(ascii, Buffer.from(bytes));
        decodeOrCodecError(binary, Buffer.from(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated contract messages (flipped, cut, inserted bytes) never throw anything else', () => {
    const mutation = fc.tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), {
        minLength: 1,
        maxLength: 4,
      }),
    );
    fc.assert(
      fc.property(mutation, ([seed, edits]) => {
        let bytes = Buffer.from(seed);
        for (const [at, value, kind] of edits) {
          const i = at % (bytes.length + 1);
          if (kind === 'flip' && i < bytes.length) bytes[i] = value;
          else if (kind === 'cut') bytes = bytes.subarray(0, i);
          else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i)]);
        }
        decodeOrCodecError(ascii, bytes);
        decodeOrCodecError(binary, bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it('a huge length prefix on a short buffer is reported, not waited on', () => {
    const bytes = Buffer.from('0200' + '0000000000002000' + '999' + 'x', 'latin1');
    expect(() => ascii.unpack(bytes)).to.throw(Iso8583DecodeError, /field 51|field 48/);
  });
});
