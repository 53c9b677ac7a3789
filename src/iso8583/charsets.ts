/**
 * Byte classes of ISO 8583 data types, as lookup tables: one array index per byte on the hot path
 * instead of a regular expression.
 */
export type Charset = Uint8Array;

function table(accept: (byte: number) => boolean): Charset {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accept(b) ? 1 : 0;
  return t;
}

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isLetter = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/** n: digits only. */
export const NUMERIC = table(isDigit);
/** an: letters, digits and the space that pads fixed fields. */
export const ALPHANUMERIC = table((b) => isDigit(b) || isLetter(b) || b === 0x20);
/** ans: any printable ASCII. */
export const PRINTABLE = table((b) => b >= 0x20 && b <= 0x7e);
/** z: track 2 data, digits plus the field separator written '=' or 'D'. */
export const TRACK2 = table((b) => isDigit(b) || b === 0x3d || b === 0x44);
/** Hex digits, either case: how binary fields and bitmaps travel in ASCII profiles. */
export const HEX = table((b) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));

/** Index of the first byte of buf[start, end) outside the charset, or -1. */
export function firstInvalidByte(buf: Buffer, start: number, end: number, charset: Charset): number {
  for (let i = start; i < end; i++) if (charset[buf[i]!] === 0) return i;
  return -1;
}

/** Index of the first character of value outside the charset, or -1. */
export function firstInvalidChar(value: string, charset: Charset): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || charset[c] === 0) return i;
  }
  return -1;
}
