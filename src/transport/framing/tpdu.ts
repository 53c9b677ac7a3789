import { FramingError } from '../errors.js';
import type { ReplyContext, RoutingHeader } from './framing.js';

/** The TPDU's first byte: protocol identifier 0x60 ("transaction"). */
export const TPDU_PROTOCOL_ID = 0x60;
export const TPDU_BYTES = 5;

export interface TpduAddresses {
  /** Network International Identifier the frame is sent to (0..0xffff). */
  readonly destination: number;
  /** Address of the sender (0..0xffff). */
  readonly source: number;
}

function checkAddress(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`TPDU ${what} must be 0..0xffff`);
}

/**
 * The 5-byte TPDU of NAC-style hosts: 0x60, 2-byte destination, 2-byte source. A response echoes the
 * request's TPDU with the two addresses swapped, so the terminal network can route it back.
 */
export function tpduHeader(own: TpduAddresses = { destination: 0, source: 0 }): RoutingHeader {
  checkAddress(own.destination, 'destination');
  checkAddress(own.source, 'source');
  return {
    bytes: TPDU_BYTES,
    check(buf, offset) {
      if (buf[offset] !== TPDU_PROTOCOL_ID) {
        throw new FramingError('FRAME_BAD_HEADER', offset, `TPDU protocol id is 0x${(buf[offset] ?? 0).toString(16)}, not 0x60`);
      }
    },
    write(out, offset, request: ReplyContext) {
      out[offset] = TPDU_PROTOCOL_ID;
      if (request === undefined) {
        out.writeUInt16BE(own.destination, offset + 1);
        out.writeUInt16BE(own.source, offset + 3);
        return;
      }
      // Reply: their source is our destination and vice versa.
      out[offset + 1] = request[3]!;
      out[offset + 2] = request[4]!;
      out[offset + 3] = request[1]!;
      out[offset + 4] = request[2]!;
    },
  };
}
