import { inspect } from 'node:util';
import { MacKeyError } from './errors.js';
import { KCV_HEX_DIGITS, keyCheckValue } from './kcv.js';
import { X919_KEY_BYTES, x919Mac } from './x9-19-mac.js';

const KEY_HEX = new RegExp(`^[0-9A-Fa-f]{${X919_KEY_BYTES * 2}}$`);
const KCV_HEX = new RegExp(`^[0-9A-Fa-f]{${KCV_HEX_DIGITS}}$`);

/**
 * A partner's ANSI X9.19 MAC key. It is checked against the check value agreed with the partner when
 * it is made, so a mistyped key fails at start-up instead of refusing every message with 63.
 *
 * The key bytes sit in a private field and every way of printing the object (JSON, util.inspect,
 * template strings, pino) shows the algorithm and the KCV only: a key cannot reach a log by accident.
 */
export class MacKey {
  readonly algorithm = 'x9.19';
  /** Upper-case KCV: how a key is named in logs, errors and conversations with the partner. */
  readonly kcv: string;
  readonly #key: Buffer;

  /** @throws MacKeyError MAC_KEY_MALFORMED, MAC_KCV_MALFORMED, MAC_KEY_WEAK or MAC_KCV_MISMATCH. */
  constructor(keyHex: string, expectedKcv: string) {
    // The reasons never quote the input: a malformed key may be a real key with a typo.
    if (!KEY_HEX.test(keyHex)) {
      throw new MacKeyError('MAC_KEY_MALFORMED', `MAC key must be ${X919_KEY_BYTES * 2} hex digits (double-length DES)`);
    }
    if (!KCV_HEX.test(expectedKcv)) throw new MacKeyError('MAC_KCV_MALFORMED', `MAC key check value must be ${KCV_HEX_DIGITS} hex digits`);
    const key = Buffer.from(keyHex, 'hex');
    // K1 = K2 turns algorithm 3 into plain single-DES CBC-MAC, which is brute-forceable.
    if (key.subarray(0, 8).equals(key.subarray(8))) {
      throw new MacKeyError('MAC_KEY_WEAK', 'MAC key halves are equal (that is single DES); use a double-length key');
    }
    const expected = expectedKcv.toUpperCase();
    const computed = keyCheckValue(key);
    if (computed !== expected) {
      throw new MacKeyError('MAC_KCV_MISMATCH',
        `MAC key does not match its check value: expected KCV ${expected}, the key gives ${computed}`, expected, computed);
    }
    this.#key = key;
    this.kcv = computed;
  }

  /** The 8-byte X9.19 MAC of `data`. */
  mac(data: Buffer): Buffer {
    return x919Mac(this.#key, data);
  }

  toJSON(): { algorithm: 'x9.19'; kcv: string } {
    return { algorithm: this.algorithm, kcv: this.kcv };
  }

  toString(): string {
    return `MacKey(${this.algorithm}, KCV ${this.kcv})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
