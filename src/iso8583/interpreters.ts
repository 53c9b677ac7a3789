import { firstInvalidByte, firstInvalidChar, HEX, NUMERIC, TRACK2, type Charset } from './charsets.js';
import type { NibblePadding } from './field-spec.js';

/**
 * Turns a field's value (always a string: digits, text, or hex for binary data) into wire bytes and
 * back (jPOS's Interpreter). Validation is split from conversion so the field packer can name the
 * exact offset of a bad byte.
 */
export interface Interpreter {
  /** Bytes on the wire for `units` units of data. */
  byteLength(units: number): number;
  /** Units a value holds: characters, digits, or bytes for hex strings; -1 when it cannot be measured. */
  units(value: string): number;
  /** Index of the first character this encoding cannot carry, or -1. */
  invalidChar(value: string): number;
  /** Writes a value of exactly `units` units; returns the bytes written. */
  write(value: string, units: number, out: Buffer, offset: number): number;
  /** Offset of the first byte in the field's data that is not valid, or -1. */
  invalidByte(buf: Buffer, offset: number, units: number): number;
  /**
   * The value at `offset`. `text` is the whole message decoded as latin1 once per unpack: taking
   * substrings of it is several times cheaper than a Buffer-to-string call per field.
   */
  read(buf: Buffer, offset: number, units: number, text: string): string;
}

/** One ASCII byte per character, restricted to a charset. */
export class TextInterpreter implements Interpreter {
  constructor(private readonly charset: Charset) {}
  byteLength(units: number): number {
    return units;
  }
  units(value: string): number {
    return value.length;
  }
  invalidChar(value: string): number {
    return firstInvalidChar(value, this.charset);
  }
  write(value: string, units: number, out: Buffer, offset: number): number {
    // A byte loop beats Buffer#write's encoding dispatch for the short values ISO fields hold.
    for (let i = 0; i < units; i++) out[offset + i] = value.charCodeAt(i);
    return units;
  }
  invalidByte(buf: Buffer, offset: number, units: number): number {
    return firstInvalidByte(buf, offset, offset + units, this.charset);
  }
  read(_buf: Buffer, offset: number, units: number, text: string): string {
    return text.substring(offset, offset + units);
  }
}

/** Every byte as its two BCD characters; nibble 0xD is track 2's separator '=' (others are never read unvalidated). */
function nibblePairs(track: boolean): readonly string[] {
  const char = (n: number): string => (track && n === 0xd ? '=' : n <= 9 ? String(n) : '?');
  return Array.from({ length: 256 }, (_, b) => char(b >> 4) + char(b & 0x0f));
}
const DIGIT_PAIRS = nibblePairs(false);
const TRACK_PAIRS = nibblePairs(true);

const PAD_NIBBLE: Record<NibblePadding, number> = { 'left-zero': 0, 'right-zero': 0, 'right-F': 0xf };

/** Digits (or track 2 characters) packed two to a byte. */
export class BcdInterpreter implements Interpreter {
  private readonly padLeft: boolean;
  private readonly padNibble: number;
  constructor(
    private readonly track: boolean,
    nibblePadding: NibblePadding,
  ) {
    this.padLeft = nibblePadding === 'left-zero';
    this.padNibble = PAD_NIBBLE[nibblePadding];
  }
  byteLength(units: number): number {
    return (units + 1) >> 1;
  }
  units(value: string): number {
    return value.length;
  }
  invalidChar(value: string): number {
    return firstInvalidChar(value, this.track ? TRACK2 : NUMERIC);
  }
  private nibbleOf(charCode: number): number {
    // Track 2's separator '=' (or 'D') is nibble 0xD.
    return charCode === 0x3d || charCode === 0x44 ? 0xd : charCode - 0x30;
  }
  write(value: string, units: number, out: Buffer, offset: number): number {
    const bytes = (units + 1) >> 1;
    let c = 0;
    let nibbleHigh = true;
    let byte = 0;
    let o = offset;
    if (units & 1 && this.padLeft) {
      byte = this.padNibble << 4;
      nibbleHigh = false;
    }
    for (; c < units; c++) {
      const n = this.nibbleOf(value.charCodeAt(c));
      if (nibbleHigh) byte = n << 4;
      else out[o++] = byte | n;
      nibbleHigh = !nibbleHigh;
    }
    if (!nibbleHigh) out[o++] = byte | this.padNibble;
    return bytes;
  }
  private validNibble(n: number): boolean {
    return n <= 9 || (this.track && n === 0xd);
  }
  invalidByte(buf: Buffer, offset: number, units: number): number {
    const bytes = (units + 1) >> 1;
    const odd = (units & 1) === 1;
    for (let i = 0; i < bytes; i++) {
      const b = buf[offset + i]!;
      const hi = b >> 4;
      const lo = b & 0x0f;
      const hiIsPad = odd && this.padLeft && i === 0;
      const loIsPad = odd && !this.padLeft && i === bytes - 1;
      if (hiIsPad ? hi !== this.padNibble : !this.validNibble(hi)) return offset + i;
      if (loIsPad ? lo !== this.padNibble : !this.validNibble(lo)) return offset + i;
    }
    return -1;
  }
  read(buf: Buffer, offset: number, units: number): string {
    // Two characters per byte from a table: string concatenation of short pieces stays in JS,
    // where a Buffer-to-string call would cross into C++ for every field.
    const pairs = this.track ? TRACK_PAIRS : DIGIT_PAIRS;
    const end = offset + ((units + 1) >> 1);
    const odd = (units & 1) === 1;
    let i = offset;
    let value = '';
    if (odd && this.padLeft) value = pairs[buf[i++]!]![1]!;
    const last = odd && !this.padLeft ? end - 1 : end;
    for (; i < last; i++) value += pairs[buf[i]!]!;
    if (last < end) value += pairs[buf[last]!]![0]!;
    return value;
  }
}

/** Binary data as ASCII hex characters (two per byte). Values are hex strings, upper-case when read. */
export class HexInterpreter implements Interpreter {
  byteLength(units: number): number {
    return units * 2;
  }
  units(value: string): number {
    return value.length & 1 ? -1 : value.length >> 1;
  }
  invalidChar(value: string): number {
    return firstInvalidChar(value, HEX);
  }
  write(value: string, units: number, out: Buffer, offset: number): number {
    const chars = units * 2;
    for (let i = 0; i < chars; i++) {
      const c = value.charCodeAt(i);
      out[offset + i] = c >= 0x61 ? c - 0x20 : c; // emit upper case
    }
    return chars;
  }
  invalidByte(buf: Buffer, offset: number, units: number): number {
    return firstInvalidByte(buf, offset, offset + units * 2, HEX);
  }
  read(_buf: Buffer, offset: number, units: number, text: string): string {
    return text.substring(offset, offset + units * 2).toUpperCase();
  }
}

/** Binary data as raw bytes. Values are hex strings. */
export class RawBinaryInterpreter extends HexInterpreter {
  override byteLength(units: number): number {
    return units;
  }
  override write(value: string, units: number, out: Buffer, offset: number): number {
    return out.write(value, offset, units, 'hex');
  }
  override invalidByte(): number {
    return -1;
  }
  override read(buf: Buffer, offset: number, units: number): string {
    return buf.toString('hex', offset, offset + units).toUpperCase();
  }
}

/** x+n: a 'C' (credit) or 'D' (debit) sign in ASCII, then the digits in the numeric encoding. */
export class AmountInterpreter implements Interpreter {
  constructor(private readonly digits: Interpreter) {}
  byteLength(units: number): number {
    return 1 + this.digits.byteLength(units);
  }
  units(value: string): number {
    return value.length - 1;
  }
  invalidChar(value: string): number {
    const sign = value.charCodeAt(0);
    if (sign !== 0x43 && sign !== 0x44) return 0;
    const i = this.digits.invalidChar(value.slice(1));
    return i < 0 ? -1 : i + 1;
  }
  write(value: string, units: number, out: Buffer, offset: number): number {
    out[offset] = value.charCodeAt(0);
    return 1 + this.digits.write(value.slice(1), units, out, offset + 1);
  }
  invalidByte(buf: Buffer, offset: number, units: number): number {
    const sign = buf[offset];
    if (sign !== 0x43 && sign !== 0x44) return offset;
    return this.digits.invalidByte(buf, offset + 1, units);
  }
  read(buf: Buffer, offset: number, units: number, text: string): string {
    return text[offset]! + this.digits.read(buf, offset + 1, units, text);
  }
}
