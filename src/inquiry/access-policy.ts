import { timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '../security/keys/index.js';
import type { Channel, Inquiry } from './inquiry.js';
import type { Refusal } from './outcome.js';

/**
 * Who may learn whose balance: the one place that decides it, for every channel. Pure functions of the
 * credential, the inquiry and (after the read) the participant's record, so it is tested by itself
 * (test/inquiry/access-policy.test.ts).
 *
 * The checks run in a fixed order, auth (the channel, before this), scope, ownership and NIK, then status,
 * so that no answer tells a requester anything about a participant they may not see: "no such", "not
 * yours" and "wrong NIK" are one neutral not-found, and only a participant the requester may see can be
 * reported as blocked.
 */

/**
 * - self: the participant themselves, through the app or the website; the credential's subject is the KPJ;
 * - any: staff at the counter or the call centre, for any participant, giving a reason and a ticket;
 * - kiosk: a kiosk bound to its device certificate, for whoever types a KPJ and the matching NIK;
 * - instrument: an ATM, for the participant linked to the card or account it read (the partner is bound by
 *   its connection).
 */
export type AccessRule = 'self' | 'any' | 'kiosk' | 'instrument';

export const ACCESS_RULE: Readonly<Record<Channel, AccessRule>> = {
  atm: 'instrument',
  app: 'self',
  web: 'self',
  counter: 'any',
  'call-centre': 'any',
  kiosk: 'kiosk',
};

/** Staff reason codes: a fixed list, never free text (the journal keeps them). */
export const STAFF_REASON_CODES = ['PARTICIPANT-REQUEST', 'CLAIM-PROCESSING', 'COMPLAINT', 'DATA-CORRECTION', 'AUDIT'] as const;

/** What a channel's authentication established. */
export interface Credential {
  /** The rules the credential grants (for REST, from its scopes). */
  readonly grants: ReadonlySet<AccessRule>;
  /** For self: the KPJ the credential belongs to. */
  readonly subject: string;
  /** For kiosk: the credential is bound to the device certificate this request came with. */
  readonly deviceBound: boolean;
}

/** The ledger's record of a participant, as the policy needs it. */
export interface ParticipantRecord {
  readonly id: bigint;
  readonly kpj: string;
  readonly name: string;
  readonly membershipStatus: string;
  readonly nikHash: Buffer | null;
  /** The data key that made nikHash (migration 008's key ids): the NIK given is hashed under the same one. */
  readonly nikKeyId: string | null;
  readonly balanceSen: bigint;
  /** YYYY-MM-DD. */
  readonly asOf: string;
}

export type Verdict =
  | { readonly kind: 'allow' }
  | { readonly kind: 'refuse'; readonly refusal: Refusal; readonly detail?: string };

const ALLOW: Verdict = Object.freeze({ kind: 'allow' });
const refuse = (refusal: Refusal, detail?: string): Verdict => (detail === undefined ? { kind: 'refuse', refusal } : { kind: 'refuse', refusal, detail });

/** Before the ledger is read: scope, what the rule needs, and ownership where the credential alone decides it. */
export function checkBeforeRead(credential: Credential, inquiry: Inquiry): Verdict {
  const rule = ACCESS_RULE[inquiry.channel];
  if (!credential.grants.has(rule)) return refuse('insufficient-scope', `the ${inquiry.channel} channel needs the ${rule} permission`);
  if (rule === 'kiosk' && !credential.deviceBound) return refuse('insufficient-scope', 'the token is not bound to this device certificate');
  const ref = inquiry.participant;
  if (rule === 'kiosk' && ref.kind !== 'kpj+nik') return refuse('incomplete', 'a kiosk inquiry gives the KPJ and the NIK');
  if (rule === 'any' && inquiry.reason === undefined) return refuse('incomplete', 'a staff inquiry gives a reason code and a ticket id');
  if (rule === 'any' && !(STAFF_REASON_CODES as readonly string[]).includes(inquiry.reason!.code)) return refuse('incomplete', 'unknown reason code');
  // "Not yours" without reading: always the same answer, whether or not that KPJ exists, so it tells nothing.
  if (rule === 'self' && (ref.kind !== 'kpj' || ref.kpj !== credential.subject)) return refuse('not-found');
  return ALLOW;
}

/** After the read: the NIK (kiosk), then the membership's status. `record` undefined: no such participant. */
export function checkAfterRead(inquiry: Inquiry, record: ParticipantRecord | undefined, keys: KeyRing): Verdict {
  if (record === undefined) return refuse('not-found');
  const ref = inquiry.participant;
  if (ref.kind === 'kpj+nik' && !nikMatches(keys, ref.nik, record)) return refuse('not-found');
  if (record.membershipStatus !== 'ACTIVE') return refuse('membership-blocked');
  return ALLOW;
}

/** What the ATM's read of a card or account found: the link and its participant's membership. */
export interface InstrumentRecord {
  readonly linkStatus: string;
  readonly membershipStatus: string;
}

/**
 * The instrument rule, after the read: the holder of a card or account learns the balance of the
 * participant it is linked to. Nothing linked is not-found; a blocked link, then a blocked membership, is
 * reported (the ATM holds the card, so the requester is its holder). `record` undefined: nothing linked.
 */
export function checkInstrumentRead(record: InstrumentRecord | undefined): Verdict {
  if (record === undefined) return refuse('not-found', 'no participant linked');
  if (record.linkStatus !== 'ACTIVE') return refuse('instrument-blocked', `link is ${record.linkStatus}`);
  if (record.membershipStatus !== 'ACTIVE') return refuse('membership-blocked', `membership is ${record.membershipStatus}`);
  return ALLOW;
}

function nikMatches(keys: KeyRing, nik: string, record: ParticipantRecord): boolean {
  // Hashed even when nothing is stored, so a participant without a NIK on file answers no faster.
  const key = (record.nikKeyId === null ? undefined : keys.byId(record.nikKeyId)) ?? keys.current;
  const given = key.hmac('contact', nik);
  const stored = record.nikHash;
  return stored !== null && stored.length === given.length && timingSafeEqual(given, stored);
}
