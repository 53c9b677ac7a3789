import { ZERO_BLOCK, ecbEncryptBlock } from './des.js';

/** Digits of a key check value as exchanged with partners (3 bytes). */
export const KCV_HEX_DIGITS = 6;

/**
 * The key check value of a DES / 3DES key: 8 zero bytes encrypted under the key, first 3 bytes as
 * 6 upper-case hex digits. Both sides compute it to prove they hold the same key without showing it.
 */
export function keyCheckValue(key: Buffer): string {
  return ecbEncryptBlock(key, ZERO_BLOCK).toString('hex', 0, KCV_HEX_DIGITS / 2).toUpperCase();
}
