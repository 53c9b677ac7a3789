import { TransportConfigError } from '../errors.js';
import { createAscii4Framing } from './ascii-4.js';
import { createBinary2Framing } from './binary-2.js';
import { createBinary2TpduFraming } from './binary-2-tpdu.js';
import type { Framing } from './framing.js';
import type { TpduAddresses } from './tpdu.js';

export type { Framing, FramingOptions, LengthField, ReplyContext, RoutingHeader } from './framing.js';
export type { TpduAddresses } from './tpdu.js';
export type { Binary2TpduOptions } from './binary-2-tpdu.js';
export { LengthPrefixedFraming } from './length-prefixed.js';
export { binary2Length, createBinary2Framing } from './binary-2.js';
export { ascii4Length, createAscii4Framing } from './ascii-4.js';
export { createBinary2TpduFraming } from './binary-2-tpdu.js';
export { TPDU_BYTES, TPDU_PROTOCOL_ID, tpduHeader } from './tpdu.js';

export const FRAMING_NAMES = ['binary-2', 'ascii-4', 'binary-2-tpdu'] as const;
export type FramingName = (typeof FRAMING_NAMES)[number];

/** A framing as a per-partner profile states it (plain data, so it can live in configuration). */
export interface FramingSpec {
  readonly name: FramingName;
  readonly lengthIncludesHeader?: boolean;
  /** `binary-2-tpdu` only: addresses of frames the switch originates. */
  readonly tpdu?: TpduAddresses;
}

export function createFraming(spec: FramingSpec | FramingName): Framing {
  const s: FramingSpec = typeof spec === 'string' ? { name: spec } : spec;
  switch (s.name) {
    case 'binary-2':
      return createBinary2Framing(s);
    case 'ascii-4':
      return createAscii4Framing(s);
    case 'binary-2-tpdu':
      return createBinary2TpduFraming(s);
    default:
      throw new TransportConfigError('TRANSPORT_UNKNOWN_FRAMING', `unknown framing ${JSON.stringify((s as { name: unknown }).name)}`);
  }
}
