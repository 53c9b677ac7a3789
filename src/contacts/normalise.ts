/**
 * The one normaliser of contact identifiers: the importer stores participants' MSISDNs and e-mail addresses
 * by it, and the text channels (SMS, e-mail) match a sender by it, so the same person is the same HMAC on
 * both paths. Keep every rule here; a second copy would let the two drift apart and a sender go unmatched.
 *
 * Results carry a reason, never the input: callers put the reason in error messages, and the value in clear
 * must appear in none.
 */

export type Normalised = { ok: true; value: string } | { ok: false; reason: string };

/** 62, then an Indonesian mobile number (8 and 7 to 11 more digits): 10 to 14 digits in all. */
const MSISDN = /^628[0-9]{7,11}$/;
const NIK = /^[0-9]{16}$/;
/** RFC 5321's limits: 64 characters of local part, 254 in all. No spaces, quotes or a second @. */
const EMAIL = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;
const EMAIL_MAX = 254;

/** `08…`, `+62…` or `62…` → `62…`. */
export function normaliseMsisdn(raw: string): Normalised {
  const text = raw.trim();
  const value = text.startsWith('+62') ? text.slice(1) : text.startsWith('08') ? `62${text.slice(1)}` : text;
  return MSISDN.test(value) ? { ok: true, value } : { ok: false, reason: 'not a mobile number (08…, +62… or 62…, 10 to 14 digits as 62…)' };
}

/** Lower case (the text channels compare addresses case-insensitively), surrounding spaces removed. */
export function normaliseEmail(raw: string): Normalised {
  const value = raw.trim().toLowerCase();
  if (value.length > EMAIL_MAX || !EMAIL.test(value) || value.includes('..')) return { ok: false, reason: 'not an e-mail address' };
  return { ok: true, value };
}

/** The 16-digit national ID number (NIK), as is. */
export function normaliseNik(raw: string): Normalised {
  return NIK.test(raw) ? { ok: true, value: raw } : { ok: false, reason: 'not 16 digits' };
}

/** The masked form kept in clear for support staff: the last four characters. */
export function maskLast4(value: string): string {
  return value.slice(-4);
}

/** `budi.santoso@example.co.id` → `b***@example.co.id`: the domain and the first letter only. */
export function maskEmail(normalised: string): string {
  const at = normalised.lastIndexOf('@');
  return `${normalised.slice(0, 1)}***${normalised.slice(at)}`;
}
