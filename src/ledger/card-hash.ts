import { createHmac, timingSafeEqual } from 'node:crypto';
import { CardKeyError } from './errors.js';

/**
 * Cards and accounts are stored as HMAC-SHA256(card key, digits): the switch can find the link from what
 * the ATM sends, while a copy of the database alone reveals no card number. A plain SHA-256 would not do:
 * the PAN space is small enough (BIN + 9 digits + Luhn) to brute-force an unkeyed hash.
 */

/** HMAC-SHA256 keys shorter than this are refused: they would make the hash guessable. */
export const MIN_CARD_KEY_BYTES = 16;

const DEV_CARD_KEY_TEXT = 'jht-switch DEVELOPMENT card key - NOT FOR PRODUCTION';

/**
 * The key `npm start` and the tests use when none is configured. Public by design, so a database hashed
 * with it protects nothing: the switch logs a warning when it runs with this key (see {@link isDevCardKey}).
 */
export const DEV_CARD_KEY: Buffer = Buffer.from(DEV_CARD_KEY_TEXT, 'utf8');

// A private copy: DEV_CARD_KEY is a mutable Buffer, and the check must not depend on it staying intact.
const DEV_CARD_KEY_REFERENCE = Buffer.from(DEV_CARD_KEY_TEXT, 'utf8');

/** True when `key` is the public development key. Constant-time, although the dev key is no secret. */
export function isDevCardKey(key: Buffer): boolean {
  return key.length === DEV_CARD_KEY_REFERENCE.length && timingSafeEqual(key, DEV_CARD_KEY_REFERENCE);
}

/** Throws {@link CardKeyError} when the key is too short to be a real HMAC key. */
export function assertCardKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length < MIN_CARD_KEY_BYTES) {
    throw new CardKeyError(`card key must be at least ${MIN_CARD_KEY_BYTES} bytes`);
  }
}

/** HMAC-SHA256 of the PAN (field 2 digits as sent, no separators) under the card key: 32 bytes. */
export function cardHash(key: Buffer, pan: string): Buffer {
  return createHmac('sha256', key).update(pan, 'latin1').digest();
}

/**
 * HMAC-SHA256 of an account number (field 102 as sent). Same construction as {@link cardHash}; the link
 * table keeps cards and accounts apart by its `kind` column, so the two spaces never collide.
 */
export function accountHash(key: Buffer, account: string): Buffer {
  return createHmac('sha256', key).update(account, 'latin1').digest();
}

/** The last four characters, the only part of a PAN or account the ledger keeps in clear (for support staff). */
export function lastFour(pan: string): string {
  return pan.slice(-4);
}
