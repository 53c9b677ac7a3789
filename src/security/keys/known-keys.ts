import { timingSafeEqual } from 'node:crypto';
import { DataKey } from './data-key.js';
import { KeyRing } from './key-ring.js';

/**
 * The embedded demo's data key, public by design (it is in this file): the demo's hashes protect nothing, and
 * the switch says so at start. Outside the demo it is refused like every key below.
 */
const DEVELOPMENT_KEY_TEXT = 'jht-switch DEVELOPMENT data key - public, NOT FOR PRODUCTION';

/**
 * Keys that are public: the development key, the old development card key of earlier builds, and patterns a
 * person types when asked for "a key". None of them may protect real data.
 */
const KNOWN_KEYS: readonly Buffer[] = [
  Buffer.from(DEVELOPMENT_KEY_TEXT, 'utf8'),
  Buffer.from('jht-switch DEVELOPMENT card key - NOT FOR PRODUCTION', 'utf8'),
  Buffer.alloc(32, 0x00),
  Buffer.alloc(32, 0xff),
  Buffer.from('0123456789ABCDEFFEDCBA98765432100123456789ABCDEFFEDCBA9876543210', 'hex'),
  Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex'),
];

/** A fresh copy each call: a Buffer is mutable, and the demo key must not be damaged by one caller. */
export function developmentKeyMaterial(): Buffer {
  return Buffer.from(DEVELOPMENT_KEY_TEXT, 'utf8');
}

/** The key ring of the embedded demo and of the tests: the development key alone. */
export function developmentKeyRing(): KeyRing {
  return new KeyRing({ current: new DataKey(developmentKeyMaterial()) });
}

/** True when `material` is a public key (constant time per candidate, although none of them is a secret). */
export function isKnownTestKey(material: Buffer): boolean {
  const repeated = material.length > 0 && material.every((byte) => byte === material[0]);
  return repeated || KNOWN_KEYS.some((known) => known.length === material.length && timingSafeEqual(known, material));
}

/** The id of the development key, for telling the demo's hashes apart in the database. */
export const DEVELOPMENT_KEY_ID: string = new DataKey(developmentKeyMaterial()).id;
