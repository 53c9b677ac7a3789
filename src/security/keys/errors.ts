/** Errors of the key model. No message or property ever carries key material: a key is named by its id. */
export type DataKeyErrorCode =
  /** Fewer than MIN_DATA_KEY_BYTES bytes. */
  | 'DATA_KEY_TOO_SHORT'
  /** A purpose outside KEY_PURPOSES: a programming error. */
  | 'DATA_KEY_PURPOSE_UNKNOWN'
  /** Two keys of one ring are the same key. */
  | 'DATA_KEY_DUPLICATE';

export class DataKeyError extends Error {
  override readonly name = 'DataKeyError';
  constructor(readonly code: DataKeyErrorCode, reason: string) {
    super(reason);
  }
}
