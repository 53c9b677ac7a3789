import { expect } from 'chai';
import fc from 'fast-check';
import Iso8583 from 'iso_8583';
import type { IsoMessage} from '../../src/iso8583/index.js';
import { compileProfile, Packager, loadProfile } from '../../src/iso8583/index.js';
import { messageOf, PLAIN_TEXT } from '../support/index.js';
import asciiProfileJson from '../../specs/profiles/iso87-ascii.json' with { type: 'json' };

/**
 * Interop with the independent `iso_8583` package. It writes ISO 8583 ASCII fields like our iso87-ascii,
 * but always sends a 128-bit bitmap (bit 1 set, secondary possibly all zero), binary by default.
 * Reading it is a new profile, not new code: iso87-ascii with binary bitmaps.
 */
const ours = new Packager(loadProfile('iso87-ascii'));
const oursBinaryBitmap = new Packager(compileProfile({ ...asciiProfileJson, name: 'iso87-ascii-binary-bitmap', bitmap: 'binary' }));

// Fields whose definitions agree between the two libraries.
const SHARED = [2, 3, 4, 7, 11, 12, 13, 18, 22, 32, 33, 39, 41, 42, 43, 48, 54, 70, 90, 102];
const SECONDARY = [70, 90, 102];

/** iso_8583 takes an empty value for an absent field, so interop messages carry no empty variable fields. */
const sharedMessage = messageOf(ours.profile, SHARED, PLAIN_TEXT).filter((m) => m.fieldNumbers().every((n) => m.get(n) !== ''));

function theirJson(message: IsoMessage): Record<string, string> {
  return { '0': message.mti, ...message.toUnmaskedJSON().fields };
}

function framed(body: Buffer): Buffer {
  const header = Buffer.alloc(2);
  header.writeUInt16BE(body.length);
  return Buffer.concat([header, body]);
}

describe('codec: interop with the iso_8583 package', () => {
  it('what iso_8583 packs, we parse', () => {
    fc.assert(
      fc.property(sharedMessage, (message) => {
        const packed = new Iso8583(theirJson(message)).getRawMessage();
        if (!Buffer.isBuffer(packed)) throw new Error(`iso_8583 refused the message: ${packed.error}`);
        expect(oursBinaryBitmap.unpack(packed).toUnmaskedJSON()).to.deep.equal(message.toUnmaskedJSON());
      }),
      { numRuns: 300 },
    );
  });

  it('what we pack, iso_8583 parses (messages with a secondary bitmap, which it always expects)', () => {
    const withSecondary = fc
      .tuple(sharedMessage, fc.constantFrom(...SECONDARY), fc.stringMatching(/^\d{3}$/))
      .map(([message, field, code]) => {
        if (!message.fieldNumbers().some((n) => n > 64)) message.set(field, field === 70 ? code : ''.padEnd(field === 90 ? 42 : 10, '7'));
        return message;
      });
    fc.assert(
      fc.property(withSecondary, (message) => {
        for (const [packager, bitmapEncoding] of [[ours, 'utf8'], [oursBinaryBitmap, 'hex']] as const) {
          const parsed = new Iso8583().getIsoJSON(framed(packager.pack(message)), { bitmapEncoding });
          expect(parsed).to.deep.equal(theirJson(message));
        }
      }),
      { numRuns: 300 },
    );
  });
});
