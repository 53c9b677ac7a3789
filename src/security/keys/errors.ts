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

/** Why a key (data key or MAC key) could not be loaded; the switch refuses to start (fails closed). */
export type KeyLoadErrorCode =
  /** No real data key is configured, and this is not the embedded demo. */
  | 'KEY_MISSING'
  /** The key was given in the main configuration file or in a variable that is no longer read. */
  | 'KEY_INLINE'
  /** Two sources name the same key (e.g. keys.dataKeyFile and JHT_DATA_KEY): which one is meant is unclear. */
  | 'KEY_AMBIGUOUS'
  /** The key file cannot be read (missing, a directory, no permission). */
  | 'KEY_FILE_UNREADABLE'
  /** The key file may be read or written by its group or by others. */
  | 'KEY_FILE_EXPOSED'
  /** The key file belongs to neither this process's user nor root. */
  | 'KEY_FILE_OWNER'
  /** Not hex (the one format of a key file and of the variables), or empty. */
  | 'KEY_MALFORMED'
  /** Shorter than the kind of key needs. */
  | 'KEY_TOO_SHORT'
  /** A public key (the development key, all zeros, a textbook pattern) outside the embedded demo. */
  | 'KEY_PUBLIC';

export class KeyLoadError extends Error {
  override readonly name = 'KeyLoadError';
  constructor(readonly code: KeyLoadErrorCode, reason: string) {
    super(reason);
  }
}
