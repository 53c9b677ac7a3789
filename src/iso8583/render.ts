import type { Sensitivity } from './field-spec.js';
import type { IsoMessage } from './message.js';
import type { Profile } from './profile.js';

/** From this length on a PAN may show its first 6 and last 4; shorter, 6 + 4 would leave too few digits hidden. */
const FIRST_SIX_FROM = 15;

/**
 * A PAN as PCI DSS allows it to be shown or stored: first 6 + last 4 (`604099******0001`). Shorter than
 * 15 digits, only the last 4 stay (a 13-digit PAN shown 6 + 4 would hide 3 digits, a search space of 1,000,
 * and fewer with the Luhn check digit); 4 or fewer are masked entirely, since "the last 4" would be the whole
 * number. Idempotent: a masked value passes through unchanged.
 */
export function maskPan(pan: string): string {
  const length = pan.length;
  if (length <= 4) return '*'.repeat(length);
  if (length < FIRST_SIX_FROM) return '*'.repeat(length - 4) + pan.slice(-4);
  return pan.slice(0, 6) + '*'.repeat(length - 10) + pan.slice(-4);
}

/** An account number shows its last 4 only. */
export function maskAccount(account: string): string {
  return '*'.repeat(Math.max(account.length - 4, 0)) + account.slice(-4);
}

export const HIDDEN = '[hidden]';

export function maskValue(value: string, sensitivity: Sensitivity | undefined): string {
  switch (sensitivity) {
    case undefined:
      return value;
    case 'pan':
      return maskPan(value);
    case 'account':
      return maskAccount(value);
    case 'secret':
      return HIDDEN;
  }
}

/**
 * The sensitive fields of ISO 8583:1987, by number, for a message seen without its profile (a log line,
 * an error): the profiles in specs/profiles mark the same fields, as test/observability-masking.test.ts checks.
 */
export const SENSITIVE_FIELDS: Readonly<Record<number, Sensitivity>> = {
  2: 'pan', 14: 'secret', 34: 'pan', 35: 'secret', 36: 'secret', 45: 'secret', 52: 'secret', 55: 'secret',
  102: 'account', 103: 'account',
};

/** `{ mti, fields }` with the fields of {@link SENSITIVE_FIELDS} masked: what a message looks like in any JSON. */
export function maskedFields(message: IsoMessage): { mti: string; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  for (const n of message.fieldNumbers()) fields[String(n)] = maskValue(message.get(n)!, SENSITIVE_FIELDS[n]);
  return { mti: message.mti, fields };
}

export interface RenderedField {
  field: number;
  name: string;
  value: string;
}

/**
 * A message as people see it (CLI, logs, journal views). Sensitive fields are masked unless `reveal`
 * is asked for explicitly: the safe rendering is the default one.
 */
export function renderFields(message: IsoMessage, profile: Profile, options: { reveal?: boolean } = {}): RenderedField[] {
  return message.fieldNumbers().map((field) => {
    const spec = profile.fields[field]?.spec;
    const raw = message.get(field)!;
    return {
      field,
      name: spec?.name ?? 'Undefined field',
      value: options.reveal ? raw : maskValue(raw, spec?.sensitive),
    };
  });
}

/** `{ mti, fields }` with sensitive values masked unless revealed. */
export function renderJson(message: IsoMessage, profile: Profile, options: { reveal?: boolean } = {}): {
  mti: string;
  fields: Record<string, string>;
} {
  const fields: Record<string, string> = {};
  for (const row of renderFields(message, profile, options)) fields[String(row.field)] = row.value;
  return { mti: message.mti, fields };
}
