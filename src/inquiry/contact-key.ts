import { createHmac, hkdfSync } from 'node:crypto';

/**
 * The key for contact data (the NIK now; MSISDN and e-mail later), kept apart from the card key so that no
 * key serves two purposes. Until src/security/keys/ (one data key, `hmac(purpose, value)`) lands, it is
 * derived here from the card key by HKDF-SHA256; swapping means replacing this file's two functions.
 */

/** Stored beside every hash (participant.nik_key_id): a rotation tells old hashes from new. */
export const CONTACT_KEY_ID = 'contact/v1';

const INFO = 'jht-switch/contact/v1';

export function contactKeyOf(cardKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', cardKey, Buffer.alloc(0), INFO, 32));
}

/** HMAC-SHA256 of a NIK (16 digits as typed) under the contact key: what participant.nik_hash holds. */
export function nikHash(contactKey: Buffer, nik: string): Buffer {
  return createHmac('sha256', contactKey).update(nik, 'latin1').digest();
}

/** The key of channel request digests (same idempotency key, other request): purpose 'request-digest'. */
export function inquiryDigestKeyOf(cardKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', cardKey, Buffer.alloc(0), 'jht-switch/inquiry-request-digest/v1', 32));
}
