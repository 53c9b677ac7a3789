import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

/**
 * The contract's demo data, read from the CSV files in specs/demo/ (the formats of the data import:
 * participants.csv, links.csv, postings.csv), plus unlinked-cards.csv: well-formed cards that are
 * deliberately linked to nobody (response 14). The files are the single source: the demo seed, the load
 * generator's expected answers, the tests' identities and the contract's demo table all come from them.
 */

export const DEMO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../specs/demo');

export type PostingKind = 'CONTRIBUTION' | 'DEVELOPMENT' | 'CLAIM' | 'CORRECTION';
export type MembershipStatus = 'ACTIVE' | 'BLOCKED' | 'CLOSED';

export interface DemoPosting {
  sourceRef: string;
  kind: PostingKind;
  amountSen: bigint;
  valueDate: string; // YYYY-MM-DD
}

export interface DemoParticipant {
  kpj: string;
  name: string;
  membershipStatus: MembershipStatus;
  /** National identity number (16 digits): what a kiosk asks for besides the KPJ. Stored only as an HMAC. */
  nik: string | undefined;
  msisdn: string | undefined;
  email: string | undefined;
  cards: readonly string[];
  accounts: readonly string[];
  /** The sum of the postings: what the ledger must show. */
  balanceSen: bigint;
  /** The latest value date of the postings: the balance's as-of date. */
  asOf: string;
  postings: readonly DemoPosting[];
}

type Row = Record<string, string>;

function readCsv(file: string): Row[] {
  return parse(readFileSync(path.join(DEMO_DIR, file), 'utf8'), { columns: true, skip_empty_lines: true, trim: false }) as Row[];
}

function field(row: Row, column: string, file: string): string {
  const value = row[column];
  if (value === undefined) throw new Error(`specs/demo/${file}: column ${column} is missing`);
  return value;
}

function loadDemoParticipants(): DemoParticipant[] {
  const links = readCsv('links.csv');
  const postings = readCsv('postings.csv');
  return readCsv('participants.csv').map((row) => {
    const kpj = field(row, 'kpj', 'participants.csv');
    const mine = links.filter((link) => link.kpj === kpj && link.status === 'ACTIVE');
    const own = postings.filter((posting) => posting.kpj === kpj).map((posting): DemoPosting => ({
      sourceRef: field(posting, 'source_ref', 'postings.csv'),
      kind: field(posting, 'kind', 'postings.csv') as PostingKind,
      amountSen: BigInt(field(posting, 'amount_sen', 'postings.csv')),
      valueDate: field(posting, 'value_date', 'postings.csv'),
    }));
    return {
      kpj,
      name: field(row, 'name', 'participants.csv'),
      membershipStatus: field(row, 'status', 'participants.csv') as MembershipStatus,
      nik: row.nik || undefined,
      msisdn: row.msisdn || undefined,
      email: row.email || undefined,
      cards: mine.filter((link) => link.kind === 'CARD').map((link) => field(link, 'number', 'links.csv')),
      accounts: mine.filter((link) => link.kind === 'ACCOUNT').map((link) => field(link, 'number', 'links.csv')),
      balanceSen: own.reduce((sum, posting) => sum + posting.amountSen, 0n),
      asOf: own.reduce((max, posting) => (posting.valueDate > max ? posting.valueDate : max), ''),
      postings: own,
    };
  });
}

export const DEMO_PARTICIPANTS: readonly DemoParticipant[] = loadDemoParticipants();

/** Every demo balance is as of the same day (the contract's "as of" column). */
export const DEMO_AS_OF: string = DEMO_PARTICIPANTS.reduce((max, p) => (p.asOf > max ? p.asOf : max), '');

/** Well-formed cards that no participant is linked to (response 14). */
export const DEMO_UNLINKED_CARDS: readonly string[] = readCsv('unlinked-cards.csv').map((row) => field(row, 'number', 'unlinked-cards.csv'));

/** The contract's one unlinked demo card. */
export const DEMO_UNLINKED_CARD: string = DEMO_UNLINKED_CARDS[0] ?? '';
