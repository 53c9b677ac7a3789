import type { KeyRing } from '../security/keys/index.js';

/**
 * The fingerprint that tells a retransmission (same key, same content → replay the answer) from a
 * duplicate (same key, different content → 94): HMAC-SHA256 of the request's canonical bytes under the data
 * key's `request-digest` key (src/security/keys).
 *
 * The caller passes the packed request with the MTI's repeat digit normalised (0201 ≡ 0200, 0101 ≡ 0100),
 * so a repeat advice matches its original. An HMAC rather than a plain hash because the request holds the
 * PAN, and an unkeyed SHA-256 of a message with a 16-digit PAN can be brute-forced from the database.
 *
 * The digest is stored with the id of the key that made it (txn_key.digest_key_id). Across a key rotation a
 * retransmission is digested again under the stored digest's key, which stays in the ring (previous, then
 * verify-only) for the 3 days digests are kept: a retransmission is never mistaken for a duplicate (94)
 * because the key changed between the original and its repeat.
 */
export interface RequestDigest {
  /** The id of the data key that made `value`: the ring's current key. */
  readonly keyId: string;
  readonly value: Buffer;
  /** The same request's digest under the held key `keyId`; undefined when that key is not held. */
  under(keyId: string): Buffer | undefined;
}

export function requestDigest(keys: KeyRing, canonicalBytes: Buffer): RequestDigest {
  const current = keys.current;
  return {
    keyId: current.id,
    value: current.hmac('request-digest', canonicalBytes),
    under: (keyId) => (keyId === current.id ? current : keys.byId(keyId))?.hmac('request-digest', canonicalBytes),
  };
}

/** Whether a stored digest, made under `storedKeyId` (null: before key ids were stored), is this request's. */
export function digestMatches(digest: RequestDigest, stored: Buffer, storedKeyId: string | null): boolean {
  const mine = storedKeyId === null || storedKeyId === digest.keyId ? digest.value : digest.under(storedKeyId);
  return mine !== undefined && mine.equals(stored);
}
