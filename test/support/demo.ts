import { DEMO_AS_OF, DEMO_PARTICIPANTS, DEMO_UNLINKED_CARD, type DemoParticipant } from '../../src/ledger/demo-data.js';

/**
 * The test identities, named by the role each plays in the contract's demo table and taken from the demo
 * data files (specs/demo/, read by src/ledger/demo-data.ts), so no test hand-copies a card number, an
 * account, a KPJ, a name or a balance. Golden wire vectors (test/fixtures) stay literal on purpose.
 */

function pick(role: string, matches: (p: DemoParticipant) => boolean, skip: readonly DemoParticipant[] = []): DemoParticipant {
  const found = DEMO_PARTICIPANTS.find((p) => matches(p) && !skip.includes(p));
  if (!found) throw new Error(`specs/demo/ has no participant for the test role "${role}"`);
  return found;
}

function first(values: readonly string[], what: string): string {
  const value = values[0];
  if (value === undefined) throw new Error(`specs/demo/: ${what} is missing`);
  return value;
}

const isActive = (p: DemoParticipant): boolean => p.membershipStatus === 'ACTIVE' && p.cards.length > 0;
/** Answered 00 by card and by account. */
const approved = pick('approved, with a card and an account', (p) => isActive(p) && p.accounts.length > 0);
/** Another participant answered 00: tells one participant's answer from another's. */
const second = pick('a second approved participant', isActive, [approved]);
/** Membership blocked: answered 57. */
const blocked = pick('blocked', (p) => p.membershipStatus === 'BLOCKED' && p.cards.length > 0);

export const demo = {
  approved,
  second,
  blocked,
  approvedCard: first(approved.cards, 'a card of the approved participant'),
  /** The approved participant's account (field 102). */
  account: first(approved.accounts, 'an account of the approved participant'),
  secondCard: first(second.cards, 'a card of the second participant'),
  blockedCard: first(blocked.cards, 'a card of the blocked participant'),
  /** Well-formed and linked to nobody: answered 14. */
  unlinkedCard: DEMO_UNLINKED_CARD,
  /** The balances' as-of date, as field 48 carries it (YYYYMMDD). */
  asOf: DEMO_AS_OF.replaceAll('-', ''),
} as const;

/** Every demo card, each with the response code the contract gives it. */
export const DEMO_CARD_ANSWERS: ReadonlyArray<readonly [card: string, responseCode: string]> = [
  [demo.approvedCard, '00'],
  [demo.secondCard, '00'],
  [demo.blockedCard, '57'],
  [demo.unlinkedCard, '14'],
];

/** Field 48 of an approval, spelled out as the contract does: KPJ n11, name ans30, as-of date n8. */
export function expectedParticipantData(p: DemoParticipant): string {
  return p.kpj + p.name.padEnd(30) + demo.asOf;
}

/** Every demo card: what a log or the database must never show in clear. */
export const DEMO_CARDS: readonly string[] = DEMO_CARD_ANSWERS.map(([card]) => card);

/** Field 54 of an approval, spelled out: ledger (01) then available (02) balance, IDR (360), credit, 12 digits of sen. */
export function expectedAdditionalAmounts(p: DemoParticipant): string {
  return ['01', '02'].map((amountType) => `00${amountType}360C${p.balanceSen.toString().padStart(12, '0')}`).join('');
}
