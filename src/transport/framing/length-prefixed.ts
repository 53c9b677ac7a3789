import { FramingError } from '../errors.js';
import type { Framing, FramingOptions, LengthField, ReplyContext, RoutingHeader } from './framing.js';

/**
 * The one framing engine: a length field, optionally a routing header, then the body. Each named
 * framing (`binary-2`, `ascii-4`, `binary-2-tpdu`) is this class with different parts.
 */
export class LengthPrefixedFraming implements Framing {
  readonly name: string;
  readonly headerLength: number;
  readonly lengthFieldBytes: number;
  readonly maxBodyLength: number;
  private readonly lengthField: LengthField;
  private readonly routing: RoutingHeader | undefined;
  /** What the length field counts besides the body: the routing header, and itself if so configured. */
  private readonly countedOverhead: number;

  constructor(name: string, lengthField: LengthField, routing: RoutingHeader | undefined, options: FramingOptions = {}) {
    this.name = name;
    this.lengthField = lengthField;
    this.routing = routing;
    this.lengthFieldBytes = lengthField.bytes;
    const routingBytes = routing?.bytes ?? 0;
    this.headerLength = lengthField.bytes + routingBytes;
    this.countedOverhead = routingBytes + (options.lengthIncludesHeader === true ? lengthField.bytes : 0);
    this.maxBodyLength = lengthField.maxValue - this.countedOverhead;
  }

  readBodyLength(buf: Buffer, offset: number): number {
    const announced = this.lengthField.read(buf, offset);
    if (announced === 0) throw new FramingError('FRAME_EMPTY', offset, 'header announces 0 bytes');
    const bodyLength = announced - this.countedOverhead;
    if (bodyLength < 0) {
      throw new FramingError('FRAME_BAD_HEADER', offset, `header announces ${announced} bytes, less than its own ${this.countedOverhead}`);
    }
    if (bodyLength === 0) throw new FramingError('FRAME_EMPTY', offset, 'header announces no message bytes');
    if (this.routing !== undefined) this.routing.check(buf, offset + this.lengthFieldBytes);
    return bodyLength;
  }

  replyContext(buf: Buffer, offset: number): ReplyContext {
    if (this.routing === undefined) return undefined;
    const start = offset + this.lengthFieldBytes;
    return buf.subarray(start, start + this.routing.bytes);
  }

  writeHeader(out: Buffer, offset: number, bodyLength: number, replyContext?: ReplyContext): void {
    // The peer would treat an empty frame as a framing error and drop the connection.
    if (bodyLength === 0) throw new FramingError('FRAME_EMPTY', offset, 'refusing to send an empty message');
    if (bodyLength > this.maxBodyLength) {
      throw new FramingError('FRAME_TOO_LARGE', offset, `a ${bodyLength}-byte body does not fit a ${this.name} header`);
    }
    this.lengthField.write(out, offset, bodyLength + this.countedOverhead);
    if (this.routing !== undefined) this.routing.write(out, offset + this.lengthFieldBytes, replyContext);
  }

  frame(body: Buffer, replyContext?: ReplyContext): Buffer {
    const out = Buffer.allocUnsafe(this.headerLength + body.length);
    this.writeHeader(out, 0, body.length, replyContext);
    body.copy(out, this.headerLength);
    return out;
  }
}
