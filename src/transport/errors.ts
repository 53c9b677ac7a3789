/**
 * Errors of the transport layer. Callers switch on `code`; messages never carry frame contents
 * (a frame is an ISO 8583 message, and those hold card numbers).
 */

export type FramingErrorCode =
  /** The header announces more than the configured maximum, or a body too long for the header to express. */
  | 'FRAME_TOO_LARGE'
  /** The header announces no message at all. */
  | 'FRAME_EMPTY'
  /** The header cannot be read: non-digit ASCII length, a length shorter than the header, a bad TPDU. */
  | 'FRAME_BAD_HEADER';

export class FramingError extends Error {
  override readonly name = 'FramingError';
  readonly code: FramingErrorCode;
  /**
   * Where the offending header starts: an offset in the buffer handed to the framing, or, once a
   * FrameReader has reported it, in the byte stream of the connection.
   */
  readonly offset: number;
  readonly reason: string;

  constructor(code: FramingErrorCode, offset: number, reason: string) {
    super(`${code} at byte ${offset}: ${reason}`);
    this.code = code;
    this.offset = offset;
    this.reason = reason;
  }

  /** The same error with its offset moved into a larger coordinate space (buffer → stream). */
  shifted(by: number): FramingError {
    return by === 0 ? this : new FramingError(this.code, this.offset + by, this.reason);
  }
}

export type TransportConfigErrorCode =
  | 'TRANSPORT_UNKNOWN_FRAMING'
  | 'TRANSPORT_BAD_ALLOW_LIST_ENTRY'
  | 'TRANSPORT_BAD_OPTION';

/** Thrown at start-up for a configuration the transport cannot run with. */
export class TransportConfigError extends Error {
  override readonly name = 'TransportConfigError';
  readonly code: TransportConfigErrorCode;

  constructor(code: TransportConfigErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
