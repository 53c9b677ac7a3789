/** PANs of at least this many digits keep their BIN (first 6) visible; shorter ones only keep the last 4. */
const MIN_LENGTH_FOR_BIN = 13;
const VISIBLE_PREFIX = 6;
const VISIBLE_SUFFIX = 4;

/**
 * Masks a PAN the way PCI DSS allows it to be stored: first 6 + last 4, '*' in between
 * (`6040990000000001` → `604099******0001`).
 *
 * A PAN shorter than 13 is masked except for its last 4; one of 4 characters or fewer is masked entirely,
 * since "the last 4" would then be the whole number. Masking is idempotent, so a value that is already
 * masked passes through unchanged.
 */
export function maskPan(pan: string): string {
  const length = pan.length;
  if (length <= VISIBLE_SUFFIX) return '*'.repeat(length);
  if (length < MIN_LENGTH_FOR_BIN) return '*'.repeat(length - VISIBLE_SUFFIX) + pan.slice(-VISIBLE_SUFFIX);
  return pan.slice(0, VISIBLE_PREFIX) + '*'.repeat(length - VISIBLE_PREFIX - VISIBLE_SUFFIX) + pan.slice(-VISIBLE_SUFFIX);
}
