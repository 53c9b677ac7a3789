import { BITMAP_FIELD, Iso8583DecodeError, Iso8583EncodeError, Iso8583Error } from './errors.js';
import { IsoMessage } from './message.js';
import type { DecodeCursor } from './field-packer.js';
import type { Profile } from './profile.js';

const SECONDARY_BIT = 0x80000000;

/**
 * The codec engine: packs an IsoMessage to bytes and back under one profile. It knows nothing of
 * framing (transport) or of what the fields mean (switch).
 */
export class Packager {
  /** Packing writes here first, sized for the profile's largest message, then copies out once. */
  private readonly scratch: Buffer;
  private readonly words = new Uint32Array(4);
  private readonly cursor: DecodeCursor = { offset: 0, text: '' };

  constructor(readonly profile: Profile) {
    this.scratch = Buffer.alloc(profile.maxBytes);
  }

  pack(message: IsoMessage): Buffer {
    const { profile, scratch: out } = this;
    profile.mti.write(message.mti, out, 0);
    let offset = profile.mti.bytes;
    const w2 = message.word(2);
    const w3 = message.word(3);
    const secondary = (w2 | w3) !== 0;
    // Field 1 is never a value: its bit says whether the secondary bitmap follows.
    const w0 = secondary ? message.word(0) | SECONDARY_BIT : message.word(0) & ~SECONDARY_BIT;
    profile.bitmap.write(w0, message.word(1), out, offset);
    offset += profile.bitmap.bytes;
    if (secondary) {
      profile.bitmap.write(w2, w3, out, offset);
      offset += profile.bitmap.bytes;
    }
    for (let w = 0; w < 4; w++) {
      let bits = w === 0 ? w0 & ~SECONDARY_BIT : message.word(w);
      while (bits !== 0) {
        const lead = Math.clz32(bits);
        bits &= ~(SECONDARY_BIT >>> lead);
        const field = w * 32 + lead + 1;
        const packer = profile.fields[field];
        if (!packer) {
          throw new Iso8583EncodeError('ISO_UNDEFINED_FIELD', field, offset, `profile ${profile.name} does not define this field`);
        }
        offset = packer.pack(message.get(field)!, out, offset);
      }
    }
    const packed = Buffer.allocUnsafe(offset);
    out.copy(packed, 0, 0, offset);
    return packed;
  }

  /**
   * Strict decode: every byte must belong to a defined field, and nothing may follow the last one.
   * On failure the thrown Iso8583DecodeError carries the fields decoded so far in `partial`.
   */
  unpack(buf: Buffer): IsoMessage {
    const { profile, words, cursor } = this;
    const message = new IsoMessage();
    let offset = 0;
    let lastField = BITMAP_FIELD;
    cursor.text = buf.toString('latin1');
    try {
      message.mti = profile.mti.read(buf, 0);
      offset = profile.mti.bytes;
      profile.bitmap.read(buf, offset, words, 0);
      offset += profile.bitmap.bytes;
      if (words[0]! & SECONDARY_BIT) {
        profile.bitmap.read(buf, offset, words, 2);
        offset += profile.bitmap.bytes;
      } else {
        words[2] = 0;
        words[3] = 0;
      }
      for (let w = 0; w < 4; w++) {
        let bits = w === 0 ? words[0]! & ~SECONDARY_BIT : words[w]!;
        while (bits !== 0) {
          const lead = Math.clz32(bits);
          bits &= ~(SECONDARY_BIT >>> lead);
          const field = w * 32 + lead + 1;
          const packer = profile.fields[field];
          if (!packer) {
            throw new Iso8583DecodeError('ISO_UNDEFINED_FIELD', field, offset,
              `bit ${field} is set but profile ${profile.name} does not define the field`);
          }
          message.setDecoded(field, packer.unpack(buf, offset, cursor));
          offset = cursor.offset;
          lastField = field;
        }
      }
    } catch (error) {
      if (error instanceof Iso8583DecodeError) error.partial = message;
      throw error;
    } finally {
      cursor.text = '';
    }
    if (offset !== buf.length) {
      const error = new Iso8583DecodeError('ISO_TRAILING_BYTES', lastField, offset,
        `${buf.length - offset} bytes follow the last field`);
      error.partial = message;
      throw error;
    }
    return message;
  }
}

export function isCodecError(error: unknown): error is Iso8583Error {
  return error instanceof Iso8583Error;
}
