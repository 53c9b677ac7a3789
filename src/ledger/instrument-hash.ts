import type { DataKey } from '../security/keys/index.js';

/**
 * Cards and accounts are stored as HMAC-SHA256 under the data key's `instrument` key (src/security/keys),
 * beside the id of the key that made the hash: the switch finds the link from what the ATM sends, while a
 * copy of the database alone reveals no card number. A plain SHA-256 would not do: the PAN space is small
 * enough (BIN + 9 digits + Luhn) to brute-force an unkeyed hash.
 *
 * Cards and accounts share one key: the link table keeps them apart by its `kind` column, so the two spaces
 * never collide.
 */

/** The digits of field 2 (card) or the characters of field 102 (account), as sent, under `key`. 32 bytes. */
export function instrumentHash(key: Pick<DataKey, 'hmac'>, number: string): Buffer {
  return key.hmac('instrument', number);
}

/**
 * An account number (field 102, ans..28) as the ledger keys it, on the ATM path and in links.csv alike: the
 * spaces a bank pads it with, on either side, are removed; leading zeros are part of the number and are kept
 * (banks' account numbers are fixed-width, "0012345" and "12345" are different accounts). specs/DATA-FILES.md.
 */
export function accountNumber(raw: string): string {
  return raw.replace(/^ +| +$/g, '');
}

/** The last four characters, the only part of a PAN or account the ledger keeps in clear (for support staff). */
export function lastFour(pan: string): string {
  return pan.slice(-4);
}
