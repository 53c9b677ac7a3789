export type JournalErrorCode =
  /** The database rejected or could not run a duplicate-detection statement. */
  | 'JOURNAL_STORE_UNAVAILABLE'
  /** A key conflicted on insert but its row could not be read back (pruned in between). */
  | 'JOURNAL_KEY_VANISHED'
  /** `close()` gave up with entries still queued; `unwritten` says how many were lost. */
  | 'JOURNAL_CLOSE_TIMEOUT'
  /** Field 90 (original data elements) is not 42 digits. */
  | 'JOURNAL_BAD_ORIGINAL_DATA'
  /** `journal_ensure_partitions()` failed: the next months' partitions could not be created. */
  | 'JOURNAL_PARTITIONS_UNAVAILABLE'
  /** A journal retention below 12 months (PCI DSS 10.5.1). */
  | 'JOURNAL_RETENTION_TOO_SHORT';

/** Everything `src/journal/` throws; callers switch on `code`, never on the message text. */
export class JournalError extends Error {
  override readonly name = 'JournalError';
  readonly code: JournalErrorCode;
  /** Entries that were never written (set by `JOURNAL_CLOSE_TIMEOUT`). */
  readonly unwritten: number;

  constructor(code: JournalErrorCode, message: string, options: { cause?: unknown; unwritten?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.unwritten = options.unwritten ?? 0;
  }
}
