import { timingSafeEqual } from 'node:crypto';
import type { IsoMessage, Packager } from '../iso8583/index.js';
import { MacError } from './errors.js';
import type { MacKey } from './mac-key.js';
import { MAC_BYTES } from './x9-19-mac.js';

/**
 * The MAC of a whole ISO 8583 message (specs/INTERFACE.md, "Message authentication").
 *
 * The rule: the MAC is the LAST field of the message. That is field 64 when the message has no field
 * above 64 (no secondary bitmap), and field 128 otherwise. It is computed over every byte of the packed
 * message that precedes the MAC field's value: the MTI, the bitmap(s) with the MAC's bit already set,
 * and every other field, exactly as they travel (no framing, no TPDU). iso87-ascii carries the 8 MAC
 * bytes as 16 hex characters, iso87-binary as 8 raw bytes.
 *
 * Because the MAC field is the last one and has a fixed size, its value is always the last 16 (ascii)
 * or 8 (binary) bytes of the packed message: signing packs once and writes the MAC into that tail, and
 * verifying reads the tail of the bytes as received. The received bytes are what count, never a
 * re-encoding (a partner may send lower-case hex, which the codec accepts and would re-emit upper-case).
 */

export type MacField = 64 | 128;
export type MacVerdict = 'ok' | 'missing' | 'wrong';

const PRIMARY_MAC: MacField = 64;
const SECONDARY_MAC: MacField = 128;
const PLACEHOLDER = '00'.repeat(MAC_BYTES);

/** Where the MAC of this message goes: 128 when a field above 64 is present, else 64. */
export function macFieldOf(message: IsoMessage): MacField {
  return (message.word(2) | message.word(3)) !== 0 ? SECONDARY_MAC : PRIMARY_MAC;
}

/** Bytes the MAC field takes on the wire in this packager's profile: 16 (hex characters) or 8 (raw). */
export function macWireBytes(packager: Packager, field: MacField): number {
  const packer = packager.profile.fields[field];
  if (packer === undefined || packer.spec.type !== 'b' || !packer.fixed || packer.spec.length !== MAC_BYTES) {
    throw new MacError('MAC_FIELD_UNSUPPORTED',
      `profile ${packager.profile.name} must define field ${field} as fixed binary of ${MAC_BYTES} bytes to carry a MAC`);
  }
  return packer.maxBytes;
}

/**
 * Sets the message's MAC field (64 or 128 by the rule above; any MAC already in 64 or 128 is dropped
 * first) and returns the packed message, MAC included.
 */
export function signMessage(message: IsoMessage, packager: Packager, key: MacKey): Buffer {
  message.delete(PRIMARY_MAC).delete(SECONDARY_MAC);
  const field = macFieldOf(message);
  const wire = macWireBytes(packager, field);
  // Pack with a placeholder so the bitmap has the MAC's bit set, MAC the bytes before it, then write
  // the real value over the placeholder: the same bytes a second pack would give, for one pack.
  message.set(field, PLACEHOLDER);
  const packed = packager.pack(message);
  const macStart = packed.length - wire;
  const mac = key.mac(packed.subarray(0, macStart));
  const hex = mac.toString('hex').toUpperCase();
  message.set(field, hex);
  if (wire === MAC_BYTES) mac.copy(packed, macStart);
  else packed.write(hex, macStart, 'latin1');
  return packed;
}

/**
 * Checks the MAC of a message as received. `message` must be what the packager decoded from `packed`.
 * 'missing' when the field the rule names (64, or 128 when a field above 64 is present) is absent,
 * 'wrong' when its value is not the MAC of the bytes before it. The comparison is constant-time.
 */
export function verifyMessage(packed: Buffer, message: IsoMessage, packager: Packager, key: MacKey): MacVerdict {
  const field = macFieldOf(message);
  const value = message.get(field);
  if (value === undefined) return 'missing';
  const wire = macWireBytes(packager, field);
  const macStart = packed.length - wire;
  const tail = wire === MAC_BYTES ? packed.subarray(macStart) : packed.toString('latin1', macStart);
  const received = typeof tail === 'string' ? Buffer.from(tail, 'hex') : tail;
  // The decoded field and the tail are the same bytes unless the caller mixed up two messages.
  if (macStart < 0 || received.length !== MAC_BYTES || received.toString('hex').toUpperCase() !== value.toUpperCase()) {
    throw new MacError('MAC_MESSAGE_MISMATCH', `field ${field} is not the last ${wire} bytes of the message given`);
  }
  return timingSafeEqual(key.mac(packed.subarray(0, macStart)), received) ? 'ok' : 'wrong';
}
