import { maskAccount, maskPan } from '../iso8583/index.js';
import { DEMO_AS_OF, DEMO_PARTICIPANTS, DEMO_UNLINKED_CARD } from '../ledger/index.js';
import { additionalAmounts, participantData } from '../iso8583/vocabulary/index.js';
import { ResponseCode } from '../iso8583/vocabulary/index.js';

/** Who an inquiry asks about: a card (field 2) or an account (field 102). */
export interface Identity {
  readonly kind: 'pan' | 'account';
  readonly value: string;
}

/**
 * What a correct answer about a known identity looks like. Only the contract's demo data has known
 * answers; for anything else the generator checks the protocol (STAN, MTI, 39) and nothing more.
 */
export interface ExpectedAnswer {
  readonly responseCode: string;
  /** Fields 48 and 54 as the contract spells them, when the answer is 00. */
  readonly participantData?: string;
  readonly additionalAmounts?: string;
}

/** The contract's two approved demo cards: the load's default, answered 00 with 48 and 54. */
export const DEFAULT_PANS: readonly string[] = ['6040990000000001', '6040990000000019'];

const DEMO_AS_OF_YYYYMMDD = DEMO_AS_OF.replaceAll('-', '');

function demoAnswers(): Map<string, ExpectedAnswer> {
  const answers = new Map<string, ExpectedAnswer>();
  for (const p of DEMO_PARTICIPANTS) {
    const answer: ExpectedAnswer = p.membershipStatus === 'ACTIVE'
      ? {
        responseCode: ResponseCode.Approved,
        participantData: participantData(p.kpj, p.name, DEMO_AS_OF_YYYYMMDD),
        additionalAmounts: additionalAmounts(p.balanceSen),
      }
      : { responseCode: ResponseCode.ParticipantBlocked };
    for (const card of p.cards) answers.set(`pan:${card}`, answer);
    for (const account of p.accounts) answers.set(`account:${account}`, answer);
  }
  answers.set(`pan:${DEMO_UNLINKED_CARD}`, { responseCode: ResponseCode.NoParticipantLinked });
  return answers;
}

let demo: Map<string, ExpectedAnswer> | undefined;

/** The contract's answer for a demo card or account (CONTRACT "Demo data"), or undefined for others. */
export function demoAnswerFor(identity: Identity): ExpectedAnswer | undefined {
  demo ??= demoAnswers();
  return demo.get(`${identity.kind}:${identity.value}`);
}

/** For output: a card as first 6 + last 4, an account masked likewise. Never a full card number. */
export function describeIdentity(identity: Identity): string {
  return identity.kind === 'pan' ? `card ${maskPan(identity.value)}` : `account ${maskAccount(identity.value)}`;
}
