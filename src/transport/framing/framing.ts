/**
 * A framing (jPOS: a channel) cuts a byte stream into messages and wraps outgoing messages. It never
 * looks inside a message: bodies are opaque Buffers, so any framing works with any packager.
 *
 * A frame is: length field, then an optional routing header (the TPDU of NAC-style hosts), then the body.
 */

/**
 * What a reply needs from its request's frame: the routing header as received (a TPDU), or undefined
 * for framings that have none. Passed up with each body and handed back when answering it.
 */
export type ReplyContext = Buffer | undefined;

export interface Framing {
  /** The profile name: `binary-2`, `ascii-4`, `binary-2-tpdu`. */
  readonly name: string;
  /** Bytes before the body: the length field plus any routing header. */
  readonly headerLength: number;
  /** Bytes of the length field alone. Frame-size limits count what follows it. */
  readonly lengthFieldBytes: number;
  /** Largest body the length field can express (not a policy limit; see FrameReader's maxFrameBytes). */
  readonly maxBodyLength: number;

  /**
   * Length of the body announced by the complete header at buf[offset .. offset + headerLength).
   * @throws FramingError FRAME_BAD_HEADER / FRAME_EMPTY, with `offset` in `buf`.
   */
  readBodyLength(buf: Buffer, offset: number): number;

  /** The reply context of the frame whose header starts at buf[offset]: a view, not a copy. */
  replyContext(buf: Buffer, offset: number): ReplyContext;

  /**
   * Writes the header for a body of `bodyLength` bytes at out[offset]. With a reply context the routing
   * header answers it (a TPDU comes back with source and destination swapped); without one, the
   * framing's own addresses are used (messages the switch originates: sign-on, echo).
   * @throws FramingError FRAME_TOO_LARGE when the length field cannot express the body.
   */
  writeHeader(out: Buffer, offset: number, bodyLength: number, replyContext?: ReplyContext): void;

  /** Header and body in one new Buffer, ready for a single socket write. */
  frame(body: Buffer, replyContext?: ReplyContext): Buffer;
}

export interface FramingOptions {
  /** Some hosts count the length field itself in the length it announces. Default false. */
  readonly lengthIncludesHeader?: boolean;
}

/** Reads and writes the length field: the only part that differs between `binary-2` and `ascii-4`. */
export interface LengthField {
  readonly bytes: number;
  readonly maxValue: number;
  /** @throws FramingError FRAME_BAD_HEADER when the field is not a length. */
  read(buf: Buffer, offset: number): number;
  write(out: Buffer, offset: number, value: number): void;
}

/** A fixed-size header between the length field and the body (the TPDU). */
export interface RoutingHeader {
  readonly bytes: number;
  /** @throws FramingError FRAME_BAD_HEADER when the header is not one this framing accepts. */
  check(buf: Buffer, offset: number): void;
  /** The routing header of an outgoing frame: the answer to `request`, or the default addresses. */
  write(out: Buffer, offset: number, request: ReplyContext): void;
}
