import { createHmac, hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { DataKeyError } from './errors.js';

/**
 * The key model, in one place (SECURITY.md, "Keys"). One secret, the data key, is held by the switch; every
 * key it uses for data is derived from it with HKDF-SHA256 and a label per purpose, so a key made for one
 * purpose is useless for another and one file is all an operator has to guard and rotate:
 * - `instrument`: HMAC of card numbers (field 2) and account numbers (field 102), to find their links;
 * - `request-digest`: HMAC of a request's canonical bytes, to tell a retransmission from a duplicate;
 * - `contact`: HMAC of NIKs, MSISDNs and e-mail addresses.
 * The REST API holds no key of its own: production tokens are verified against BPJS's identity provider
 * (its JWKS), and the embedded demo's development issuer has a random key pair of its own
 * (src/channels/rest/dev-issuer.ts).
 * MAC keys (X9.19) are exchanged with each bank and are not derived: src/security/mac-key.ts.
 */
export const KEY_PURPOSES = ['instrument', 'request-digest', 'contact'] as const;
export type KeyPurpose = typeof KEY_PURPOSES[number];

/** 256 bits: an HMAC key as strong as its output, and no shorter than what `openssl rand 32` gives. */
export const MIN_DATA_KEY_BYTES = 32;

const HKDF_SALT = Buffer.from('jht-switch data key v1', 'utf8');
/** Hex digits of a key id: 32 bits tell a handful of key versions apart, and reveal nothing of the key. */
const KEY_ID_HEX = 8;
const CHECK_VALUE_HEX = 6;

/**
 * A data key and the keys derived from it. The key bytes live in private fields only; printing the object
 * in any way (JSON, util.inspect, template strings, pino) shows its id.
 */
export class DataKey {
  /** Names the key in the database (each hash records it), in logs and in `keys status`. */
  readonly id: string;
  readonly #derived: ReadonlyMap<KeyPurpose, Buffer>;

  /** @throws DataKeyError DATA_KEY_TOO_SHORT. */
  constructor(material: Buffer) {
    if (!Buffer.isBuffer(material) || material.length < MIN_DATA_KEY_BYTES) {
      throw new DataKeyError('DATA_KEY_TOO_SHORT', `a data key must be at least ${MIN_DATA_KEY_BYTES} bytes`);
    }
    this.#derived = new Map(KEY_PURPOSES.map((purpose) => [purpose, derive(material, purpose)]));
    this.id = createHmac('sha256', derive(material, 'key-id')).update('id').digest('hex').slice(0, KEY_ID_HEX);
  }

  /** HMAC-SHA256 of `value` under this key's `purpose` key: 32 bytes. Text is hashed as latin1 digits/ASCII. */
  hmac(purpose: KeyPurpose, value: string | Buffer): Buffer {
    const hmac = createHmac('sha256', this.#key(purpose));
    return (typeof value === 'string' ? hmac.update(value, 'utf8') : hmac.update(value)).digest();
  }

  /**
   * The purpose key's check value: 6 hex digits of its HMAC over a fixed block, as a KCV names a DES key. Two
   * sites holding the same data key show the same check values; the value reveals nothing of the key.
   */
  checkValue(purpose: KeyPurpose): string {
    return createHmac('sha256', this.#key(purpose)).update(Buffer.alloc(32)).digest('hex').slice(0, CHECK_VALUE_HEX).toUpperCase();
  }

  /**
   * The raw purpose key, for the one consumer that needs key bytes rather than an HMAC:
   * the importer's staging worker threads (src/ledger/import/stage-pool.ts: this process's memory only).
   */
  keyFor(purpose: KeyPurpose): Buffer {
    return Buffer.from(this.#key(purpose));
  }

  toJSON(): { id: string } {
    return { id: this.id };
  }

  toString(): string {
    return `DataKey(${this.id})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  #key(purpose: KeyPurpose): Buffer {
    const key = this.#derived.get(purpose);
    if (!key) throw new DataKeyError('DATA_KEY_PURPOSE_UNKNOWN', `no key purpose ${String(purpose)}`);
    return key;
  }
}

function derive(material: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', material, HKDF_SALT, `jht-switch/${label}/v1`, 32));
}
