import { DES_BLOCK_BYTES, ZERO_BLOCK, cbcLastBlock } from './des.js';
import { MacKeyError } from './errors.js';

export const MAC_BYTES = 8;
export const X919_KEY_BYTES = 16;

/**
 * ANSI X9.19 retail MAC = ISO/IEC 9797-1 MAC algorithm 3 with DES, padding method 1, no truncation.
 *
 * The key is double-length, K1|K2. The data is padded with zero bytes to a whole number of blocks (an
 * empty input is one zero block), CBC-MACed with single DES under K1 from a zero IV, and the last
 * chaining value is then decrypted under K2 and encrypted under K1.
 *
 * Done here in two cipher calls: single DES CBC under K1 over every block but the last gives the
 * chaining value H(n-1); the last block XOR H(n-1), encrypted under K1, decrypted under K2 and
 * encrypted under K1 again, is one 2-key 3DES EDE encryption, i.e. 3DES CBC with IV H(n-1).
 */
export function x919Mac(key: Buffer, data: Buffer): Buffer {
  if (key.length !== X919_KEY_BYTES) {
    throw new MacKeyError('MAC_KEY_MALFORMED', `an X9.19 key is ${X919_KEY_BYTES} bytes (double-length DES), not ${key.length}`);
  }
  const blocks = Math.max(1, Math.ceil(data.length / DES_BLOCK_BYTES));
  const headBytes = (blocks - 1) * DES_BLOCK_BYTES;
  const chaining = headBytes === 0 ? ZERO_BLOCK : cbcLastBlock(key.subarray(0, 8), ZERO_BLOCK, data.subarray(0, headBytes));
  // Padding method 1: the last block is what is left of the data, then zeros.
  const last = Buffer.alloc(DES_BLOCK_BYTES);
  data.copy(last, 0, headBytes);
  return cbcLastBlock(key, chaining, last);
}
