import type { PrefixEncoding, PrefixKind } from './field-spec.js';

/**
 * Writes and reads the length prefix of a variable field (jPOS's Prefixer, moov's prefix package).
 * `decode` returns the length, or -1 when the prefix bytes are not a valid length.
 */
export interface Prefixer {
  /** Bytes the prefix takes on the wire (0 for fixed fields). */
  readonly bytes: number;
  /** The largest length this prefix can express. */
  readonly maxLength: number;
  encode(length: number, out: Buffer, offset: number): void;
  decode(buf: Buffer, offset: number): number;
}

const DIGITS: Record<PrefixKind, number> = { fixed: 0, LL: 2, LLL: 3, LLLL: 4 };

class AsciiPrefixer implements Prefixer {
  readonly maxLength: number;
  constructor(readonly bytes: number) {
    this.maxLength = 10 ** bytes - 1;
  }
  encode(length: number, out: Buffer, offset: number): void {
    for (let i = this.bytes - 1; i >= 0; i--) {
      out[offset + i] = 0x30 + (length % 10);
      length = Math.floor(length / 10);
    }
  }
  decode(buf: Buffer, offset: number): number {
    let length = 0;
    for (let i = 0; i < this.bytes; i++) {
      const d = buf[offset + i]! - 0x30;
      if (d < 0 || d > 9) return -1;
      length = length * 10 + d;
    }
    return length;
  }
}

/** Length as BCD digits: LL in one byte, LLL and LLLL in two (LLL with a leading zero nibble). */
class BcdPrefixer implements Prefixer {
  readonly bytes: number;
  readonly maxLength: number;
  constructor(digits: number) {
    this.bytes = Math.ceil(digits / 2);
    this.maxLength = 10 ** digits - 1;
  }
  encode(length: number, out: Buffer, offset: number): void {
    for (let i = this.bytes - 1; i >= 0; i--) {
      const lo = length % 10;
      length = Math.floor(length / 10);
      const hi = length % 10;
      length = Math.floor(length / 10);
      out[offset + i] = (hi << 4) | lo;
    }
  }
  decode(buf: Buffer, offset: number): number {
    let length = 0;
    for (let i = 0; i < this.bytes; i++) {
      const byte = buf[offset + i]!;
      const hi = byte >> 4;
      const lo = byte & 0x0f;
      if (hi > 9 || lo > 9) return -1;
      length = length * 100 + hi * 10 + lo;
    }
    return length <= this.maxLength ? length : -1;
  }
}

/** Length as an unsigned big-endian integer: LL in one byte, LLL and LLLL in two. */
class BinaryPrefixer implements Prefixer {
  readonly bytes: number;
  readonly maxLength: number;
  constructor(digits: number) {
    this.bytes = digits <= 2 ? 1 : 2;
    this.maxLength = Math.min(10 ** digits - 1, 2 ** (8 * this.bytes) - 1);
  }
  encode(length: number, out: Buffer, offset: number): void {
    if (this.bytes === 1) out[offset] = length;
    else out.writeUInt16BE(length, offset);
  }
  decode(buf: Buffer, offset: number): number {
    return this.bytes === 1 ? buf[offset]! : buf.readUInt16BE(offset);
  }
}

const NO_PREFIX: Prefixer = {
  bytes: 0,
  maxLength: Number.MAX_SAFE_INTEGER,
  encode: () => undefined,
  decode: () => -1,
};

export function createPrefixer(kind: PrefixKind, encoding: PrefixEncoding): Prefixer {
  const digits = DIGITS[kind];
  if (digits === 0) return NO_PREFIX;
  if (encoding === 'ascii') return new AsciiPrefixer(digits);
  if (encoding === 'bcd') return new BcdPrefixer(digits);
  return new BinaryPrefixer(digits);
}
