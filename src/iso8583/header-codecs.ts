import { BITMAP_FIELD, Iso8583DecodeError, Iso8583EncodeError, MTI_FIELD } from './errors.js';

/**
 * The MTI and the bitmaps: the parts of a message that frame the data elements. Bitmaps are handled as
 * pairs of 32-bit words so no per-message arrays are allocated.
 */
export interface MtiCodec {
  readonly bytes: number;
  write(mti: string, out: Buffer, offset: number): void;
  read(buf: Buffer, offset: number): string;
}

function checkMti(mti: string): void {
  if (mti.length !== 4 || !/^\d{4}$/.test(mti)) throw new Iso8583EncodeError('ISO_BAD_MTI', MTI_FIELD, 0, 'MTI must be 4 digits');
}

function truncated(field: number, offset: number, need: number, have: number): Iso8583DecodeError {
  return new Iso8583DecodeError('ISO_TRUNCATED', field, offset, `needs ${need} bytes, ${Math.max(have, 0)} left`);
}

export const asciiMti: MtiCodec = {
  bytes: 4,
  write(mti, out, offset) {
    checkMti(mti);
    for (let i = 0; i < 4; i++) out[offset + i] = mti.charCodeAt(i);
  },
  read(buf, offset) {
    if (buf.length - offset < 4) throw truncated(MTI_FIELD, offset, 4, buf.length - offset);
    for (let i = 0; i < 4; i++) {
      const b = buf[offset + i]!;
      if (b < 0x30 || b > 0x39) throw new Iso8583DecodeError('ISO_BAD_MTI', MTI_FIELD, offset + i, 'MTI must be 4 digits');
    }
    return buf.toString('latin1', offset, offset + 4);
  },
};

export const bcdMti: MtiCodec = {
  bytes: 2,
  write(mti, out, offset) {
    checkMti(mti);
    out[offset] = ((mti.charCodeAt(0) - 0x30) << 4) | (mti.charCodeAt(1) - 0x30);
    out[offset + 1] = ((mti.charCodeAt(2) - 0x30) << 4) | (mti.charCodeAt(3) - 0x30);
  },
  read(buf, offset) {
    if (buf.length - offset < 2) throw truncated(MTI_FIELD, offset, 2, buf.length - offset);
    let mti = '';
    for (let i = 0; i < 2; i++) {
      const b = buf[offset + i]!;
      if (b >> 4 > 9 || (b & 0x0f) > 9) throw new Iso8583DecodeError('ISO_BAD_MTI', MTI_FIELD, offset + i, 'MTI must be 4 BCD digits');
      mti += String(b >> 4) + String(b & 0x0f);
    }
    return mti;
  },
};

/** A 64-bit bitmap as two 32-bit words, written or read at an offset. */
export interface BitmapCodec {
  readonly bytes: number;
  write(hi: number, lo: number, out: Buffer, offset: number): void;
  /** Reads into words[index], words[index + 1]. */
  read(buf: Buffer, offset: number, words: Uint32Array, index: number): void;
}

const HEX_DIGITS = '0123456789ABCDEF';

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/** 16 hex characters; upper case emitted, either case accepted (CONTRACT). */
export const hexBitmap: BitmapCodec = {
  bytes: 16,
  write(hi, lo, out, offset) {
    for (let i = 0; i < 8; i++) {
      out[offset + i] = HEX_DIGITS.charCodeAt((hi >>> (28 - 4 * i)) & 0xf);
      out[offset + 8 + i] = HEX_DIGITS.charCodeAt((lo >>> (28 - 4 * i)) & 0xf);
    }
  },
  read(buf, offset, words, index) {
    if (buf.length - offset < 16) throw truncated(BITMAP_FIELD, offset, 16, buf.length - offset);
    for (let w = 0; w < 2; w++) {
      let word = 0;
      for (let i = 0; i < 8; i++) {
        const at = offset + w * 8 + i;
        const v = hexValue(buf[at]!);
        if (v < 0) throw new Iso8583DecodeError('ISO_BAD_BITMAP', BITMAP_FIELD, at, 'bitmap must be hex characters');
        word = (word << 4) | v;
      }
      words[index + w] = word >>> 0;
    }
  },
};

export const binaryBitmap: BitmapCodec = {
  bytes: 8,
  write(hi, lo, out, offset) {
    out.writeUInt32BE(hi >>> 0, offset);
    out.writeUInt32BE(lo >>> 0, offset + 4);
  },
  read(buf, offset, words, index) {
    if (buf.length - offset < 8) throw truncated(BITMAP_FIELD, offset, 8, buf.length - offset);
    words[index] = buf.readUInt32BE(offset);
    words[index + 1] = buf.readUInt32BE(offset + 4);
  },
};
