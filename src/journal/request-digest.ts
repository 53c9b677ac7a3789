import { createHmac } from 'node:crypto';
import { JournalError } from './errors.js';

/** Below this an HMAC key is a password, not a secret; 32 random bytes are recommended. */
const MIN_KEY_BYTES = 16;

/**
 * The fingerprint that tells a retransmission (same key, same content → replay the answer) from a
 * duplicate (same key, different content → 94): HMAC-SHA256 of the request's canonical bytes.
 *
 * The caller passes the packed request with the MTI's repeat digit normalised (0201 ≡ 0200, 0101 ≡ 0100),
 * so a repeat advice matches its original. An HMAC rather than a plain hash because the request holds the
 * PAN, and an unkeyed SHA-256 of a message with a 16-digit PAN can be brute-forced from the database.
 *
 * Every switch instance sharing a database must use the same key; otherwise a retransmission that lands on
 * another instance looks like a duplicate.
 */
export function requestDigest(key: Buffer, canonicalBytes: Buffer): Buffer {
  if (key.length < MIN_KEY_BYTES) {
    throw new JournalError('JOURNAL_BAD_DIGEST_KEY', `request digest key must be at least ${MIN_KEY_BYTES} bytes`);
  }
  return createHmac('sha256', key).update(canonicalBytes).digest();
}
