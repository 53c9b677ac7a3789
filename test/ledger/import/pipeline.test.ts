import { Readable } from 'node:stream';
import { expect } from 'chai';
import { FILE_KINDS, ImportError, lockImports, runImports, stageImport, type ImportSummary, type RunImportOptions } from '../../../src/ledger/import/index.js';
import { TEST_KEYS } from '../../support/index.js';
import { importFixture, type ImportFixture } from './import-fixture.js';

const file = (kind: keyof typeof FILE_KINDS, csv: string, extra: Partial<RunImportOptions> = {}): RunImportOptions =>
  ({ kind: FILE_KINDS[kind], input: Readable.from([csv]), fileName: `${kind}.csv`, key: TEST_KEYS.current, ...extra });

/** runImports: several files in order, each in a transaction of its own, the next staged while one is applied. */
describe('ledger/import: several files in one run', function () {
  this.timeout(60_000);
  let fx: ImportFixture;
  before(async () => {
    fx = await importFixture();
  });
  after(() => fx?.drop());

  // First: --initial needs a ledger without participants of its own.
  it('applies the files in the order given: the links and postings find the participants the run brought', async () => {
    const done: string[] = [];
    const summaries = await runImports(fx.importer, [
      file('participants', 'kpj,name\n16000000002,FIRST\n16000000003,SECOND\n', { initial: true }),
      file('links', 'kind,number,kpj,status\nCARD,4111111111111111,16000000002,ACTIVE\n', { initial: true }),
      file('postings', 'source_ref,kpj,kind,amount_sen,value_date\nP2,16000000002,OPENING,900,2026-10-31\nP3,16000000003,OPENING,0,2026-10-31\n',
        { initial: true }),
    ], (summary) => done.push(summary.kind));
    expect(done).to.deep.equal(['participants', 'links', 'postings']);
    expect(summaries.map((s) => s.inserted)).to.deep.equal([2, 1, 1]);
    const { rows: [balance] } = await fx.admin.query<{ balance_sen: bigint }>(
      "SELECT b.balance_sen FROM jht_balance b JOIN participant p ON p.id = b.participant_id WHERE p.kpj_number = '16000000002'");
    expect(BigInt(balance!.balance_sen)).to.equal(900n);
  });

  it('stages a file while another import holds the ledger, and applies it once that one commits', async () => {
    const holder = await fx.importer.connect();
    try {
      await holder.query('BEGIN');
      await lockImports(holder);
      let waited = 0;
      const staged = await stageImport(fx.importer, file('participants', 'kpj,name\n16000000001,WAITING\n', { onWaiting: () => { waited += 1; } }));
      let applied: ImportSummary | undefined;
      const applying = staged.apply().then((summary) => { applied = summary; });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(applied, 'applied while another import held the ledger').to.equal(undefined);
      expect(waited).to.equal(1);
      await holder.query('COMMIT');
      await applying;
      expect(applied).to.include({ inserted: 1 });
      expect(applied!.phasesMs.wait).to.be.at.least(250);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    }
  });

  it('stops at a file that fails: the files before it stay applied, the files after it are not imported', async () => {
    const before = await fx.count('participant');
    const done: string[] = [];
    const error = await runImports(fx.importer, [
      file('participants', 'kpj,name\n16000000004,KEPT\n'),
      file('links', 'kind,number,kpj,status\nCARD,4111111111111112,16000000004,ACTIVE\n'),
      file('participants', 'kpj,name\n16000000005,NEVER\n'),
    ], (summary) => done.push(summary.file)).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ImportError);
    expect((error as ImportError).rowErrors).to.deep.equal([{ line: 2, column: 'number', reason: 'not a card number (13 to 19 digits passing Luhn)' }]);
    expect(done).to.deep.equal(['participants.csv']);
    expect(await fx.count('participant')).to.equal(before + 1);
    const { rows } = await fx.admin.query("SELECT 1 FROM participant WHERE kpj_number = '16000000005'");
    expect(rows, 'the file after the failing one').to.deep.equal([]);
    const { rows: open } = await fx.admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'");
    expect(open[0]!.n, 'no staged transaction left open').to.equal(0);
  });
});
