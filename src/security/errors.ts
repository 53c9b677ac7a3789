/**
 * Errors of the security module. Callers switch on `code`. No message, property or cause ever carries
 * key material: a key is named by its check value (KCV) only.
 */

export type MacKeyErrorCode =
  /** Not a DES key of the expected length (or, as text, not 32 hex digits). */
  | 'MAC_KEY_MALFORMED'
  /** Both halves equal: a double-length key that is really single DES. */
  | 'MAC_KEY_WEAK'
  /** The configured check value is not 6 hex digits. */
  | 'MAC_KCV_MALFORMED'
  /** The key does not produce the configured check value: a mistyped or swapped key. */
  | 'MAC_KCV_MISMATCH'
  /** The previous key of a key change is the current key. */
  | 'MAC_KEY_DUPLICATE';

export class MacKeyError extends Error {
  override readonly name = 'MacKeyError';
  constructor(
    readonly code: MacKeyErrorCode,
    reason: string,
    /** MAC_KCV_MISMATCH only: the check value configured, and the one the key actually has. */
    readonly expectedKcv?: string,
    readonly computedKcv?: string,
  ) {
    super(reason);
  }
}

export type MacErrorCode =
  /** The profile does not define the MAC field as a fixed 8-byte binary field. */
  | 'MAC_FIELD_UNSUPPORTED'
  /** verifyMessage was given a message that was not decoded from the bytes it was given. */
  | 'MAC_MESSAGE_MISMATCH';

/** A misuse of the message-level MAC functions: a programming or profile error, never a partner's fault. */
export class MacError extends Error {
  override readonly name = 'MacError';
  constructor(readonly code: MacErrorCode, reason: string) {
    super(reason);
  }
}
