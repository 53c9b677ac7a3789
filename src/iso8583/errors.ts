import type { IsoMessage } from './message.js';

/** Field numbers used in errors for the two parts of a message that are not data elements. */
export const MTI_FIELD = 0;
export const BITMAP_FIELD = 1;

export type DecodeErrorCode =
  | 'ISO_TRUNCATED'
  | 'ISO_LENGTH_OVER_MAX'
  | 'ISO_BAD_LENGTH_PREFIX'
  | 'ISO_INVALID_CHARACTER'
  | 'ISO_UNDEFINED_FIELD'
  | 'ISO_TRAILING_BYTES'
  | 'ISO_BAD_MTI'
  | 'ISO_BAD_BITMAP';

export type EncodeErrorCode =
  | 'ISO_VALUE_TOO_LONG'
  | 'ISO_VALUE_TOO_SHORT'
  | 'ISO_INVALID_CHARACTER'
  | 'ISO_UNDEFINED_FIELD'
  | 'ISO_BAD_MTI'
  | 'ISO_MESSAGE_TOO_LARGE';

function where(field: number): string {
  if (field === MTI_FIELD) return 'MTI';
  if (field === BITMAP_FIELD) return 'bitmap';
  return `field ${field}`;
}

/** Base class of everything the codec throws; callers switch on `code`, never on the message text. */
export abstract class Iso8583Error extends Error {
  abstract readonly code: string;
  /** Data element number (0 = MTI, 1 = bitmap). */
  readonly field: number;
  /** Byte offset in the message (decode) or in the output buffer (encode) where the problem starts. */
  readonly offset: number;
  /** What was wrong, without the value: messages may be logged and values can be card data. */
  readonly reason: string;

  protected constructor(field: number, offset: number, reason: string) {
    super(`${where(field)} at offset ${offset}: ${reason}`);
    this.field = field;
    this.offset = offset;
    this.reason = reason;
  }
}

export class Iso8583DecodeError extends Iso8583Error {
  override readonly name = 'Iso8583DecodeError';
  readonly code: DecodeErrorCode;
  // A private field, so that it is no own enumerable property: loggers and error serializers copy those,
  // and the fields decoded so far hold the PAN and track 2.
  #partial: IsoMessage | undefined;

  constructor(code: DecodeErrorCode, field: number, offset: number, reason: string) {
    super(field, offset, reason);
    this.code = code;
  }

  /**
   * Everything decoded before the failure. The switch uses it to echo field 11 (and friends)
   * in a format-error (30) response.
   */
  get partial(): IsoMessage | undefined {
    return this.#partial;
  }

  set partial(message: IsoMessage | undefined) {
    this.#partial = message;
  }
}

export class Iso8583EncodeError extends Iso8583Error {
  override readonly name = 'Iso8583EncodeError';
  readonly code: EncodeErrorCode;

  constructor(code: EncodeErrorCode, field: number, offset: number, reason: string) {
    super(field, offset, reason);
    this.code = code;
  }
}

/** A packager profile that does not validate. Names the profile and the JSON path of the problem. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  readonly code = 'ISO_BAD_PROFILE';
  constructor(readonly profile: string, readonly path: string, reason: string) {
    super(`profile ${profile}: ${path ? `${path}: ` : ''}${reason}`);
  }
}
