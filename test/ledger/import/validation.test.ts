import { expect } from 'chai';
import { importFixture, type ImportFixture } from './import-fixture.js';

/** One bad value per column of each file: the column named, the reason, nothing applied. */
const PARTICIPANT_CASES: [string, string, string][] = [
  ['1300000000,,A,ACTIVE,,', 'kpj', 'not 11 digits'],
  ['1300000000x,,A,ACTIVE,,', 'kpj', 'not 11 digits'],
  ['13000000010,123,A,ACTIVE,,', 'nik', 'not 16 digits'],
  ['13000000010,,,ACTIVE,,', 'name', 'must be 1 to 100 characters'],
  [`13000000010,,${'X'.repeat(101)},ACTIVE,,`, 'name', 'must be 1 to 100 characters'],
  ['13000000010,,A,active,,', 'status', 'not ACTIVE, BLOCKED or CLOSED'],
  ['13000000010,,A,ACTIVE,0212345678,', 'msisdn', 'not a mobile number'],
  ['13000000010,,A,ACTIVE,,budi@', 'email', 'not an e-mail address'],
  ['13000000010,,A,ACTIVE,,budi santoso@example.co.id', 'email', 'not an e-mail address'],
];
const LINK_CASES: [string, string, string][] = [
  ['DEBIT,4111111111111111,13000000001,ACTIVE,', 'kind', 'not CARD or ACCOUNT'],
  ['CARD,4111111111111112,13000000001,ACTIVE,', 'number', 'not a card number'],
  ['CARD,411111111111,13000000001,ACTIVE,', 'number', 'not a card number'],
  [`ACCOUNT,${'1'.repeat(29)},13000000001,ACTIVE,`, 'number', 'not an account number'],
  ['ACCOUNT,   ,13000000001,ACTIVE,', 'number', 'not an account number'],
  ['CARD,4111111111111111,1300000000,ACTIVE,', 'kpj', 'not 11 digits'],
  ['CARD,4111111111111111,13000000099,ACTIVE,', 'kpj', 'no such participant'],
  ['CARD,4111111111111111,13000000001,GONE,', 'status', 'not ACTIVE, BLOCKED or REMOVED'],
  ['CARD,4111111111111111,13000000001,ACTIVE,Bank A', 'issuer', 'not a partner id'],
];
const POSTING_CASES: [string, string, string][] = [
  [',13000000001,CONTRIBUTION,100,2026-11-30', 'source_ref', 'must be 1 to 100 characters'],
  ['P1,1300000000,CONTRIBUTION,100,2026-11-30', 'kpj', 'not 11 digits'],
  ['P1,13000000099,CONTRIBUTION,100,2026-11-30', 'kpj', 'no such participant'],
  ['P1,13000000001,BONUS,100,2026-11-30', 'kind', 'not OPENING, CONTRIBUTION, DEVELOPMENT, CLAIM or CORRECTION'],
  ['P1,13000000001,CONTRIBUTION,1.5,2026-11-30', 'amount_sen', 'not a whole number of sen'],
  ['P1,13000000001,CONTRIBUTION,-100,2026-11-30', 'amount_sen', 'a CONTRIBUTION is more than 0'],
  ['P1,13000000001,CLAIM,100,2026-11-30', 'amount_sen', 'a CLAIM is less than 0'],
  ['P1,13000000001,OPENING,-1,2026-11-30', 'amount_sen', 'an OPENING is 0 or more'],
  ['P1,13000000001,CORRECTION,0,2026-11-30', 'amount_sen', 'must not be 0'],
  ['P1,13000000001,CLAIM,-999999,2026-11-30', 'amount_sen', 'below 0'],
  ['P1,13000000001,CONTRIBUTION,100,2026-02-30', 'value_date', 'not a calendar date'],
  ['P1,13000000001,CONTRIBUTION,100,30/11/2026', 'value_date', 'not a date (YYYY-MM-DD)'],
  ['OPEN2,13000000001,OPENING,5,2026-11-30', 'kind', 'already has an OPENING'],
  ['OPEN1,13000000001,OPENING,6,2026-10-31', 'source_ref', 'already posted with other content'],
];
const GOOD = {
  participants: { header: 'kpj,nik,name,status,msisdn,email', row: (i: number) => `130000001${String(i).padStart(2, '0')},,PERSON ${i},ACTIVE,,` },
  links: { header: 'kind,number,kpj,status,issuer', row: (i: number) => `ACCOUNT,ACC-${i},13000000001,ACTIVE,` },
  postings: { header: 'source_ref,kpj,kind,amount_sen,value_date', row: (i: number) => `GOOD-${i},13000000001,CONTRIBUTION,100,2026-11-30` },
} as const;
const TABLES = { participants: 'participant', links: 'instrument_link', postings: 'jht_posting' } as const;

describe('ledger/import: every column is validated, and one bad row applies nothing', function () {
  this.timeout(60_000);
  let fx: ImportFixture;
  before(async () => {
    fx = await importFixture();
    await fx.load('participants', 'kpj,name,status\n13000000001,BUDI,ACTIVE\n');
    await fx.load('postings', 'source_ref,kpj,kind,amount_sen,value_date\nOPEN1,13000000001,OPENING,5,2026-10-31\n');
  });
  after(() => fx?.drop());

  for (const [kind, cases] of [['participants', PARTICIPANT_CASES], ['links', LINK_CASES], ['postings', POSTING_CASES]] as const) {
    for (const [row, column, reason] of cases) {
      it(`${kind}: column ${column}: ${reason}`, async () => {
        const errors = await fx.loadFailing(kind, `${GOOD[kind].header}\n${row}\n`);
        expect(errors).to.have.length(1);
        expect(errors[0]).to.include({ line: 2, column });
        expect(errors[0]!.reason).to.include(reason);
      });
    }
  }

  for (const [kind, badRow] of [['participants', PARTICIPANT_CASES[0]![0]], ['links', LINK_CASES[1]![0]], ['postings', POSTING_CASES[4]![0]]] as const) {
    for (const [where, at] of [['first', 0], ['middle', 5], ['last', 9]] as const) {
      it(`${kind}: a bad row as the ${where} of 10 applies nothing of the file`, async () => {
        const before = await fx.count(TABLES[kind]);
        const rows = Array.from({ length: 10 }, (_, i) => (i === at ? badRow : GOOD[kind].row(i)));
        const errors = await fx.loadFailing(kind, `${GOOD[kind].header}\n${rows.join('\n')}\n`);
        expect(errors.map((e) => e.line)).to.deep.equal([at + 2]);
        expect(await fx.count(TABLES[kind])).to.equal(before);
      });
    }
  }

  it('names the line a multi-line record starts on, and lists the first 20 errors of 25 with the total', async () => {
    const multi = await fx.loadFailing('participants', 'kpj,name,status\n13000000020,"TWO\nLINES",ACTIVE\n1300000002,X,ACTIVE\n');
    expect(multi.map((e) => [e.line, e.column])).to.deep.equal([[2, 'name'], [4, 'kpj']]);
    const rows = Array.from({ length: 25 }, () => 'x,NAME,ACTIVE');
    const error = await fx.load('participants', `kpj,name,status\n${rows.join('\n')}\n`).then(() => undefined, (e: unknown) => e);
    expect(error).to.have.property('total', 25);
    expect((error as { rowErrors: unknown[] }).rowErrors).to.have.length(20);
  });

  it('refuses a header with an unknown or a missing key column at line 1, and a duplicate key in the file', async () => {
    expect(await fx.loadFailing('participants', 'kpj,name,colour\n13000000001,A,red\n')).to.deep.equal([
      { line: 1, column: 'colour', reason: 'unknown column (this file has kpj, nik, name, status, msisdn, email)' }]);
    expect((await fx.loadFailing('links', 'number,kpj\n4111111111111111,13000000001\n'))[0]).to.include({ line: 1, column: 'kind' });
    const dup = await fx.loadFailing('participants', 'kpj,name\n13000000030,A\n13000000030,B\n');
    expect(dup).to.deep.equal([{ line: 3, column: 'kpj', reason: 'appears again (first on line 2)' }]);
  });

  it('names every repeated key of each file with the line it first appeared on', async () => {
    expect(await fx.loadFailing('participants', 'kpj,name\n13000000031,A\n13000000032,B\n13000000031,C\n13000000031,D\n')).to.deep.equal([
      { line: 4, column: 'kpj', reason: 'appears again (first on line 2)' }, { line: 5, column: 'kpj', reason: 'appears again (first on line 2)' }]);
    expect(await fx.loadFailing('links', 'kind,number,kpj\nCARD,4111111111111111,13000000001\nACCOUNT,4111111111111111,13000000001\n' +
      'CARD,4111111111111111,13000000001\n')).to.deep.equal([{ line: 4, column: 'number', reason: 'the same card appears again (first on line 2)' }]);
    const postings = 'source_ref,kpj,kind,amount_sen,value_date\nP1,13000000001,CONTRIBUTION,1,2026-11-30\nP1,13000000001,CONTRIBUTION,1,2026-11-30\n';
    expect(await fx.loadFailing('postings', postings)).to.deep.equal([{ line: 3, column: 'source_ref', reason: 'appears again (first on line 2)' }]);
    await fx.load('participants', 'kpj,name\n13000000033,E\n');
    const openings = 'source_ref,kpj,kind,amount_sen,value_date\nO1,13000000033,OPENING,1,2026-10-31\nO2,13000000033,OPENING,2,2026-10-31\n';
    expect(await fx.loadFailing('postings', openings)).to.deep.equal([
      { line: 3, column: 'kind', reason: 'a second OPENING for this participant (first on line 2)' }]);
  });

  it('a new participant needs a name; a dry run applies nothing', async () => {
    expect((await fx.loadFailing('participants', 'kpj,status\n13000000040,ACTIVE\n'))[0]).to.include({ column: 'name' });
    const before = await fx.count('participant');
    expect(await fx.load('participants', 'kpj,name\n13000000041,A\n', { dryRun: true })).to.include({ inserted: 1 });
    expect(await fx.count('participant')).to.equal(before);
  });
});
