import { Readable } from 'node:stream';
import { expect } from 'chai';
import { FILE_KINDS, ImportError, lockImports, runImports, stageImport, type ImportSummary, type RunImportOptions } from '../../../src/ledger/import/index.js';
import { TEST_KEYS } from '../../support/index.js';
import { useImportFixture } from './import-fixture.js';

const file = (kind: keyof typeof FILE_KINDS, csv: string, extra: Partial<RunImportOptions> = {}): RunImportOptions =>
  ({ kind: FILE_KINDS[kind], input: Readable.from([csv]), fileName: `${kind}.csv`, key: TEST_KEYS.current, ...extra });

/** runImports: several files in order, each in a transaction of its own, the next staged while one is applied. */
describe('ledger/import: several files in one run', function () {
  this.timeout(60_000);
  const fx = useImportFixture();

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

  it('applies a links file beside the postings file before it, and commits them in the file order', async () => {
    await fx.load('participants', 'kpj,name\n16000000006,SIDE\n');
    const blocker = await fx.admin.connect();
    const done: string[] = [];
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE jht_balance IN ACCESS EXCLUSIVE MODE'); // holds the postings' checks
      const run = runImports(fx.importer, [
        file('postings', 'source_ref,kpj,kind,amount_sen,value_date\nS6,16000000006,CONTRIBUTION,100,2026-11-30\n'),
        file('links', 'kind,number,kpj,status\nCARD,5500000000000004,16000000006,ACTIVE\n'),
      ], (summary) => done.push(summary.kind));
      // The links file is applied, and waits to commit after the postings file, which waits for the table.
      await until(async () => {
        const { rows } = await fx.admin.query<{ waiting: number; applied: number }>(`
          SELECT count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting,
                 count(*) FILTER (WHERE state = 'idle in transaction' AND query LIKE '%INSERT INTO instrument_link%')::int AS applied
            FROM pg_stat_activity WHERE datname = current_database() AND usename <> current_user`);
        return rows[0]!.waiting === 1 && rows[0]!.applied === 1;
      });
      const { rows: unseen } = await fx.admin.query("SELECT 1 FROM instrument_link WHERE last4 = '0004'");
      expect(unseen, 'committed before the postings file').to.deep.equal([]);
      await blocker.query('COMMIT');
      await run;
      expect(done).to.deep.equal(['postings', 'links']);
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });

  it('rolls back a file applied beside an earlier one that fails, and reports the earlier error', async () => {
    const error = await runImports(fx.importer, [
      file('postings', 'source_ref,kpj,kind,amount_sen,value_date\nS7,16000000099,CONTRIBUTION,100,2026-11-30\n'),
      file('links', 'kind,number,kpj,status\nCARD,4012888888881881,16000000006,ACTIVE\n'),
    ], () => undefined).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ImportError);
    expect((error as ImportError).rowErrors).to.deep.equal([{ line: 2, column: 'kpj', reason: 'no such participant (import participants.csv first)' }]);
    const { rows } = await fx.admin.query("SELECT 1 FROM instrument_link WHERE last4 = '1881'");
    expect(rows).to.deep.equal([]);
  });
});

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (const started = Date.now(); !(await condition()); ) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
