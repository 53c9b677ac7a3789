import type { Framing, FramingOptions } from './framing.js';
import { binary2Length } from './binary-2.js';
import { LengthPrefixedFraming } from './length-prefixed.js';
import { tpduHeader, type TpduAddresses } from './tpdu.js';

export interface Binary2TpduOptions extends FramingOptions {
  /** Addresses of frames the switch originates (sign-on, echo); replies swap the request's instead. */
  readonly tpdu?: TpduAddresses;
}

/**
 * 2-byte big-endian length, then a 5-byte TPDU (jPOS NACChannel). The length counts TPDU + message;
 * the body handed up excludes the TPDU, which travels as the reply context.
 */
export function createBinary2TpduFraming(options: Binary2TpduOptions = {}): Framing {
  return new LengthPrefixedFraming('binary-2-tpdu', binary2Length, tpduHeader(options.tpdu), options);
}
