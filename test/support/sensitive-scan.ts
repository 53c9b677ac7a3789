/**
 * What a leaked identifier looks like in a log line, an error message or a database row: a Luhn-valid run of
 * 13 to 19 digits (a PAN), a 16-digit run (a NIK), an Indonesian mobile number (08…, 62…, +62…), or an e-mail
 * address (a masked one, `b***@example.co.id`, is not one). Hex of a bytea (`\x…`) and any run of 32 or more hex
 * digits (a checksum, a digest) is left out: a hash, not an identifier.
 */

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Every run of 13 to 19 digits inside `text` that passes Luhn: what a leaked PAN looks like. */
export function luhnRuns(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/\d{13,}/g)) {
    const run = match[0];
    for (let length = 13; length <= 19; length++) {
      for (let start = 0; start + length <= run.length; start++) {
        const candidate = run.slice(start, start + length);
        if (luhnValid(candidate)) found.push(candidate);
      }
    }
  }
  return found;
}

const NIK = /(?<!\d)\d{16}(?!\d)/g;
const MSISDN = /(?<![\d\w])(?:\+?62|0)8\d{7,11}(?!\d)/g;
const EMAIL = /[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+/gi;

/** Every PAN, NIK, MSISDN or e-mail address in clear inside `text`. */
export function clearIdentifiers(text: string): string[] {
  const scanned = text.replace(/\\+x[0-9a-f]+/gi, '').replace(/[0-9a-f]{32,}/gi, '');
  return [
    ...luhnRuns(scanned),
    ...[...scanned.matchAll(NIK)].map((m) => m[0]),
    ...[...scanned.matchAll(MSISDN)].map((m) => m[0]),
    ...[...scanned.matchAll(EMAIL)].map((m) => m[0]),
  ];
}
