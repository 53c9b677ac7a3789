import { FramingError } from './errors.js';
import type { Framing, ReplyContext } from './framing/framing.js';

/** Default largest frame: what follows the length field (TPDU + message), as the contract counts it. */
export const DEFAULT_MAX_FRAME_BYTES = 8192;

export type FrameSink = (body: Buffer, replyContext: ReplyContext) => void;

/**
 * Cuts a byte stream into frames. Feed it socket chunks in order; it calls the sink once per frame.
 *
 * Copying: a frame lying whole inside one chunk is handed up as a view of that chunk (the common case
 * costs no copy and no allocation beyond the view). Only a frame that straddles chunks is assembled,
 * into one buffer allocated once at its exact size as soon as its header is known.
 *
 * A framing error is final: a length-prefixed stream has no sync marker, so after one bad header
 * nothing that follows can be trusted. `push` throws it once (offset counted in the stream) and the
 * reader ignores everything after.
 */
export class FrameReader {
  private readonly framing: Framing;
  private readonly headerLength: number;
  private readonly maxPayload: number;
  /** Header bytes after the length field (the TPDU): the size limit counts them with the body. */
  private readonly routingBytes: number;
  private readonly sink: FrameSink;

  /** Bytes of the stream before the next frame's first byte: gives errors a stream offset. */
  private frameStart = 0;
  /** A straddling frame: its header (in `headerScratch`) or the whole frame once its length is known. */
  private partial: Buffer | undefined;
  private partialFilled = 0;
  private partialHeaderOnly = false;
  private readonly headerScratch: Buffer;
  /** Bytes received while paused, not yet cut into frames. */
  private held: Buffer | undefined;
  private pausedFlag = false;
  private error: FramingError | undefined;

  constructor(framing: Framing, sink: FrameSink, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.framing = framing;
    this.headerLength = framing.headerLength;
    this.maxPayload = maxFrameBytes;
    this.routingBytes = framing.headerLength - framing.lengthFieldBytes;
    this.sink = sink;
    this.headerScratch = Buffer.alloc(framing.headerLength);
  }

  /** The framing error that stopped the reader, if any. */
  get failure(): FramingError | undefined {
    return this.error;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** Bytes held back (paused, or a frame still incomplete): what the reader buffers right now. */
  get bufferedBytes(): number {
    return (this.held?.length ?? 0) + (this.partial !== undefined ? this.partialFilled : 0);
  }

  /** Whether a frame has begun (some of its header or body arrived) and is not complete yet. */
  get midFrame(): boolean {
    return this.partial !== undefined;
  }

  /** @throws FramingError once, on the first bad header; later input is ignored. */
  push(chunk: Buffer): void {
    if (this.error !== undefined || chunk.length === 0) return;
    if (this.pausedFlag) {
      // Data arriving while paused (a chunk already on its way when the socket paused): rare, so concat.
      this.held = this.held === undefined ? chunk : Buffer.concat([this.held, chunk]);
      return;
    }
    this.consume(chunk);
  }

  /** Stops handing up frames after the current one; input keeps being accepted and held. */
  pause(): void {
    this.pausedFlag = true;
  }

  /** Hands up what was held while paused; may stop again if the sink pauses the reader. */
  resume(): void {
    this.pausedFlag = false;
    const held = this.held;
    if (held === undefined || this.error !== undefined) return;
    this.held = undefined;
    this.consume(held);
  }

  private consume(chunk: Buffer): void {
    let offset = 0;
    if (this.partial !== undefined) {
      offset = this.fillPartial(chunk);
      if (this.partial !== undefined) return; // the chunk went entirely into the straddling frame
    }
    const h = this.headerLength;
    while (offset < chunk.length) {
      if (this.pausedFlag) {
        this.held = chunk.subarray(offset);
        return;
      }
      if (chunk.length - offset < h) {
        this.startPartialHeader(chunk, offset);
        return;
      }
      const frameLength = h + this.bodyLength(chunk, offset);
      const end = offset + frameLength;
      if (end > chunk.length) {
        this.startPartialFrame(chunk, offset, frameLength);
        return;
      }
      this.frameStart += frameLength;
      this.sink(chunk.subarray(offset + h, end), this.framing.replyContext(chunk, offset));
      offset = end;
    }
  }

  /** Reads and checks a complete header; a failure is stored and thrown with its stream offset. */
  private bodyLength(buf: Buffer, offset: number): number {
    try {
      const body = this.framing.readBodyLength(buf, offset);
      const payload = this.routingBytes + body;
      if (payload > this.maxPayload) {
        throw new FramingError('FRAME_TOO_LARGE', offset, `header announces ${payload} bytes, more than the ${this.maxPayload} allowed`);
      }
      return body;
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.partial = undefined;
      this.held = undefined;
      this.error = err.shifted(this.frameStart - offset);
      throw this.error;
    }
  }

  private startPartialHeader(chunk: Buffer, offset: number): void {
    const n = chunk.length - offset;
    chunk.copy(this.headerScratch, 0, offset);
    this.partial = this.headerScratch;
    this.partialFilled = n;
    this.partialHeaderOnly = true;
  }

  private startPartialFrame(chunk: Buffer, offset: number, frameLength: number): void {
    const frame = Buffer.allocUnsafe(frameLength);
    this.partialFilled = chunk.copy(frame, 0, offset);
    this.partial = frame;
    this.partialHeaderOnly = false;
  }

  /** Continues the straddling frame with the start of `chunk`; returns how much of the chunk it took. */
  private fillPartial(chunk: Buffer): number {
    let offset = 0;
    if (this.partialHeaderOnly) {
      offset = chunk.copy(this.headerScratch, this.partialFilled, 0, this.headerLength - this.partialFilled);
      this.partialFilled += offset;
      if (this.partialFilled < this.headerLength) return offset;
      const frameLength = this.headerLength + this.bodyLength(this.headerScratch, 0);
      const frame = Buffer.allocUnsafe(frameLength);
      this.headerScratch.copy(frame, 0);
      this.partial = frame;
      this.partialHeaderOnly = false;
    }
    const frame = this.partial!;
    const copied = chunk.copy(frame, this.partialFilled, offset, offset + frame.length - this.partialFilled);
    this.partialFilled += copied;
    offset += copied;
    if (this.partialFilled === frame.length) {
      this.partial = undefined;
      this.partialFilled = 0;
      this.frameStart += frame.length;
      this.sink(frame.subarray(this.headerLength), this.framing.replyContext(frame, 0));
    }
    return offset;
  }
}
