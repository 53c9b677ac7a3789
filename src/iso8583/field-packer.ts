import { Iso8583DecodeError, Iso8583EncodeError } from './errors.js';
import type { FieldSpec, Padding } from './field-spec.js';
import type { Interpreter } from './interpreters.js';
import type { Prefixer } from './prefixers.js';

/** Decoder state shared across the fields of one message. */
export interface DecodeCursor {
  offset: number;
  /** The whole message as latin1: fields are substrings of it. */
  text: string;
}

function pad(value: string, units: number, length: number, padding: Padding): string | undefined {
  const fill = length - units;
  switch (padding) {
    case 'left-zero':
      return '0'.repeat(fill) + value;
    case 'left-space':
      return ' '.repeat(fill) + value;
    case 'right-space':
      return value + ' '.repeat(fill);
    case 'none':
      return undefined;
  }
}

/**
 * One data element's packer, composed like jPOS's: a padder (for fixed fields), an interpreter (data
 * encoding) and a prefixer (length encoding). Strict both ways: a value that does not fit is an error,
 * never silently cut or padded beyond what the spec says.
 */
export class FieldPacker {
  readonly fixed: boolean;
  /** The most bytes this field can take on the wire, prefix included. */
  readonly maxBytes: number;

  constructor(
    readonly spec: FieldSpec,
    private readonly prefixer: Prefixer,
    private readonly interpreter: Interpreter,
  ) {
    this.fixed = spec.prefix === 'fixed';
    this.maxBytes = prefixer.bytes + interpreter.byteLength(spec.length);
  }

  /** Writes the field at `offset` of `out` (sized by the caller from maxBytes); returns the next offset. */
  pack(value: string, out: Buffer, offset: number): number {
    const { spec, interpreter } = this;
    const bad = interpreter.invalidChar(value);
    if (bad >= 0) {
      throw new Iso8583EncodeError('ISO_INVALID_CHARACTER', spec.number, offset,
        `character ${bad + 1} is not allowed in a ${spec.type} field`);
    }
    let units = interpreter.units(value);
    if (units < 0) throw new Iso8583EncodeError('ISO_INVALID_CHARACTER', spec.number, offset, 'odd number of hex digits');
    if (units > spec.length) {
      throw new Iso8583EncodeError('ISO_VALUE_TOO_LONG', spec.number, offset,
        `${units} exceeds the ${this.fixed ? 'fixed' : 'maximum'} length ${spec.length}`);
    }
    if (this.fixed && units < spec.length) {
      const padded = pad(value, units, spec.length, spec.padding);
      if (padded === undefined) {
        throw new Iso8583EncodeError('ISO_VALUE_TOO_SHORT', spec.number, offset,
          `${units} is short of the fixed length ${spec.length} and the field is not padded`);
      }
      value = padded;
      units = spec.length;
    }
    this.prefixer.encode(units, out, offset);
    offset += this.prefixer.bytes;
    return offset + interpreter.write(value, units, out, offset);
  }

  /**
   * Reads the field at `offset` and returns its value; the next field's offset comes back through
   * `cursor`, which also carries the message as latin1 text, to keep the hot path free of allocations.
   */
  unpack(buf: Buffer, offset: number, cursor: DecodeCursor): string {
    const { spec, interpreter, prefixer } = this;
    let units = spec.length;
    let dataStart = offset;
    if (!this.fixed) {
      if (offset + prefixer.bytes > buf.length) {
        throw new Iso8583DecodeError('ISO_TRUNCATED', spec.number, offset,
          `length prefix needs ${prefixer.bytes} bytes, ${buf.length - offset} left`);
      }
      units = prefixer.decode(buf, offset);
      if (units < 0) throw new Iso8583DecodeError('ISO_BAD_LENGTH_PREFIX', spec.number, offset, 'length prefix is not a number');
      if (units > spec.length) {
        throw new Iso8583DecodeError('ISO_LENGTH_OVER_MAX', spec.number, offset,
          `length ${units} exceeds the maximum ${spec.length}`);
      }
      dataStart = offset + prefixer.bytes;
    }
    const end = dataStart + interpreter.byteLength(units);
    if (end > buf.length) {
      throw new Iso8583DecodeError('ISO_TRUNCATED', spec.number, dataStart,
        `needs ${end - dataStart} bytes, ${buf.length - dataStart} left`);
    }
    const bad = interpreter.invalidByte(buf, dataStart, units);
    if (bad >= 0) {
      throw new Iso8583DecodeError('ISO_INVALID_CHARACTER', spec.number, bad, `byte not allowed in a ${spec.type} field`);
    }
    cursor.offset = end;
    return interpreter.read(buf, dataStart, units, cursor.text);
  }
}
