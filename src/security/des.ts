import { createCipheriv } from 'node:crypto';
import { MacKeyError } from './errors.js';

export const DES_BLOCK_BYTES = 8;
/** Shared by every caller: read, never written. */
export const ZERO_BLOCK: Buffer = Buffer.alloc(DES_BLOCK_BYTES);

/**
 * DES through OpenSSL's default provider. Node 20 ships OpenSSL 3, where single DES (`des-ecb`,
 * `des-cbc`) lives in the legacy provider and is not loaded: creating such a cipher throws
 * "unsupported". Two-key EDE with both halves equal is E_K(D_K(E_K(x))) = E_K(x), single DES exactly,
 * so a single-length key is run as K|K under `des-ede-cbc`. Double-length keys are 2-key 3DES
 * (`des-ede-cbc`), triple-length ones 3-key 3DES (`des-ede3-cbc`).
 */
function cipherFor(key: Buffer): { algorithm: string; key: Buffer } {
  switch (key.length) {
    case 8:
      return { algorithm: 'des-ede-cbc', key: Buffer.concat([key, key]) };
    case 16:
      return { algorithm: 'des-ede-cbc', key };
    case 24:
      return { algorithm: 'des-ede3-cbc', key };
    default:
      throw new MacKeyError('MAC_KEY_MALFORMED', `a DES key is 8, 16 or 24 bytes, not ${key.length}`);
  }
}

/**
 * CBC-encrypts `data` (whole blocks) under `key` from `iv` and returns the last cipher block: the
 * chaining value a CBC-MAC needs. ECB of one block is this with a zero IV.
 */
export function cbcLastBlock(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  if (data.length === 0 || data.length % DES_BLOCK_BYTES !== 0) {
    throw new RangeError(`CBC input must be a positive multiple of ${DES_BLOCK_BYTES} bytes, not ${data.length}`);
  }
  const { algorithm, key: cipherKey } = cipherFor(key);
  const cipher = createCipheriv(algorithm, cipherKey, iv).setAutoPadding(false);
  const out = cipher.update(data);
  cipher.final();
  return out.subarray(out.length - DES_BLOCK_BYTES);
}

export function ecbEncryptBlock(key: Buffer, block: Buffer): Buffer {
  return cbcLastBlock(key, ZERO_BLOCK, block);
}
