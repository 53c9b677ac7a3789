import { FramingError } from '../errors.js';
import type { Framing, FramingOptions, LengthField } from './framing.js';
import { LengthPrefixedFraming } from './length-prefixed.js';

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** 4 ASCII decimal digits (jPOS ASCIIChannel, moov-io network.ASCII4Bytes). */
export const ascii4Length: LengthField = {
  bytes: 4,
  maxValue: 9999,
  read(buf, offset) {
    let value = 0;
    for (let i = offset; i < offset + 4; i++) {
      const b = buf[i]!;
      if (b < DIGIT_0 || b > DIGIT_9) throw new FramingError('FRAME_BAD_HEADER', offset, 'length header is not 4 ASCII digits');
      value = value * 10 + (b - DIGIT_0);
    }
    return value;
  },
  write(out, offset, value) {
    for (let i = offset + 3; i >= offset; i--) {
      out[i] = DIGIT_0 + (value % 10);
      value = Math.floor(value / 10);
    }
  },
};

export function createAscii4Framing(options: FramingOptions = {}): Framing {
  return new LengthPrefixedFraming('ascii-4', ascii4Length, undefined, options);
}
