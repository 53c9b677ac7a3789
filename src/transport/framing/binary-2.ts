import type { Framing, FramingOptions, LengthField } from './framing.js';
import { LengthPrefixedFraming } from './length-prefixed.js';

/** 2-byte unsigned big-endian length (jPOS PostChannel, moov-io network.Binary2Bytes). */
export const binary2Length: LengthField = {
  bytes: 2,
  maxValue: 0xffff,
  read(buf, offset) {
    return (buf[offset]! << 8) | buf[offset + 1]!;
  },
  write(out, offset, value) {
    out[offset] = value >>> 8;
    out[offset + 1] = value & 0xff;
  },
};

/** The contract's default: a 2-byte big-endian length counting the message bytes after it. */
export function createBinary2Framing(options: FramingOptions = {}): Framing {
  return new LengthPrefixedFraming('binary-2', binary2Length, undefined, options);
}
