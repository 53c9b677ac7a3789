/**
 * National-scale benchmark (issue 11), by hand:
 * `npm run bench:scale -- N [--daily M] [--runs 6] [--duration 10] [--cards 60000] [--keep | --reuse DIR]`.
 *
 * 1. writes N participants, N card links + N/10 account links, N OPENING postings and a daily file of M
 *    CONTRIBUTION postings (default min(N, 1 million)) as CSV (scale-files.ts);
 * 2. imports the first three with the real command, in one (`jht-switch import participants P postings O links L
 *    --initial`, a process of its own, as the importer role, fsync on), timed from command start to the last
 *    commit, and prints each file's rows/s and phases and the database size per participant;
 * 3. starts the switch on that database and imports the daily file live (the command attaches to it);
 * 4. runs the inquiry load (`jht-switch load --max`) with `--cards` cards drawn at random from the whole population and
 *    with the demo cards, after VACUUM (ANALYZE), a CHECKPOINT and one untimed 10 s run of each, then
 *    interleaved, `--runs` times each, and prints p50/p99/TPS medians and the ratios.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { cpuSeconds, freePort, runLoadProcess, startSwitchProcess } from './processes.js';
import { cardOf, writeScaleFiles } from './scale-files.js';
import type { LoadReport } from '../../src/loadgen/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    daily: { type: 'string' }, runs: { type: 'string', default: '6' }, duration: { type: 'string', default: '10' },
    // As many cards as `load` takes (65,535): the more of the population a run asks for, the more of each
    // lookup misses the CPU's caches (README: 20,000 cards flattered the 10-million ratios).
    cards: { type: 'string', default: '60000' }, keep: { type: 'boolean', default: false }, reuse: { type: 'string' },
  },
});
const n = Number(positionals[0] ?? 10_000_000);
const daily = Number(values.daily ?? Math.min(n, 1_000_000));
const runs = Number(values.runs);
const note = (line: string): void => void process.stderr.write(`${line}\n`);
/** The machine is shared: every figure is printed with the load it was measured under. */
const loadAverage = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/** Measured at 10 million (README): 1,063 bytes of database and 214 bytes of CSV per participant, plus headroom. */
const reuse = values.reuse;
if (reuse === undefined) {
  note(`bench:scale N=${n}: needs about ${(n * 1.1e-6).toFixed(1)} GB of database and ${(n * 0.22e-6).toFixed(1)} GB of CSV ` +
    `in ${os.tmpdir()} (free it with the run's directory, printed below)`);
}
const workDir = reuse ?? await mkdtemp(path.join(os.tmpdir(), 'jht-scale-'));
await chmod(workDir, 0o755); // as root, the embedded postgres runs as the postgres user
note(`work directory ${workDir}${reuse === undefined ? '' : ' (reused: no files, no import)'}`);
// The first import clears the demo marker, and from then on the importer and the switch need a real data key
// (SECURITY.md, "Key loading"): a random one of this run's own, in a 0600 file both inherit, unless one is given.
if (process.env.JHT_DATA_KEY_FILE === undefined) {
  const keyFile = path.join(workDir, 'data-key');
  if (reuse === undefined) await writeFile(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  process.env.JHT_DATA_KEY_FILE = keyFile;
}
const configFile = path.join(workDir, 'import.json');
await writeFile(configFile, JSON.stringify({ database: { dataDir: path.join(workDir, 'pg'), embeddedPort: await freePort() } }));

/** One `jht-switch import` command of `pairs` (KIND FILE ...): its seconds, command start to last commit. */
async function timedImport(pairs: [kind: string, file: string][], extra: string[]): Promise<number> {
  const started = Date.now();
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin/jht-switch.js'), 'import', ...pairs.flat(), '--config', configFile, ...extra],
    { cwd: ROOT, maxBuffer: 64 << 20 });
  const s = (Date.now() - started) / 1000;
  // Each file's summary: "FILE: N rows: ..." then "time ..." (formatSummary).
  const lines = stdout.trim().split('\n');
  for (const [kind, file] of pairs) {
    const at = lines.findIndex((line) => line.startsWith(`${file}: `));
    const rows = Number(/: (\d+) rows:/.exec(lines[at] ?? '')?.[1] ?? 0);
    const time = lines.slice(at).find((line) => line.startsWith('time ')) ?? '';
    note(`  import ${kind.padEnd(12)} ${path.basename(file).padEnd(20)} ${String(rows).padStart(9)} rows: ${time}`);
  }
  note(`  ${pairs.length === 1 ? 'the command' : `the ${pairs.length} files in one command`}: ${s.toFixed(1)} s from command start to commit, load average ${loadAverage()}`);
  return s;
}

/** Steps 1 and 2: the files, and the initial load in one command; returns the daily file, imported live later. */
async function initialLoad(): Promise<string> {
  const generated = Date.now();
  const files = await writeScaleFiles(workDir, n, daily);
  const csvBytes = (await Promise.all(Object.values(files).map((f) => stat(f).then((s) => s.size)))).reduce((a, b) => a + b, 0);
  note(`generated ${(csvBytes / 1e9).toFixed(2)} GB of CSV in ${((Date.now() - generated) / 1000).toFixed(1)} s`);

  // One command, as an operator runs the first load: each file is staged while the ones before it are applied,
  // and the openings (the longest apply) and the links, which both need only the participants, are applied side
  // by side (runImports).
  const total = await timedImport([['participants', files.participants], ['postings', files.openings], ['links', files.links]], ['--initial']);
  note(`initial load: ${total.toFixed(1)} s in all (${n} participants, ${n + Math.floor(n / 10)} links, ${n} openings)`);
  return files.daily;
}
const dailyFile = reuse === undefined ? await initialLoad() : undefined;

// This database holds (synthetic) real data now: serve refuses root outside the demo unless told (containers, CI).
if (process.getuid?.() === 0) process.env.JHT_ALLOW_ROOT = '1';
const server = await startSwitchProcess({ workDir, maxConnections: 200 });
try {
  if (dailyFile !== undefined) await timedImport([['postings', dailyFile]], []);
  const db = new pg.Client({
    host: '127.0.0.1', port: Number((await import('node:fs')).readFileSync(path.join(workDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]),
    user: 'postgres', password: (await import('node:fs')).readFileSync(`${path.join(workDir, 'pg')}.password`, 'utf8').trim(), database: 'jht_switch',
  });
  await db.connect();
  // Each run journals its inquiries (about 2 GB for `--runs 6 --duration 10`): a reused database starts from
  // the initial load and the daily file again, or each rerun measures a larger ledger than the one before.
  if (reuse !== undefined) await db.query('TRUNCATE journal, inquiry_answer, inquiry_key');
  const { rows: [size] } = await db.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
  note(`database ${(Number(size!.bytes) / 1e9).toFixed(2)} GB = ${Math.round(Number(size!.bytes) / n)} bytes per participant`);
  // What the first night's maintenance does after a load, before the inquiries are measured: otherwise
  // autovacuum's first pass over 10 million fresh rows, and the checkpoint of the load's dirty buffers, run
  // during whichever inquiry runs they happen to meet.
  const settling = Date.now();
  await db.query('VACUUM (ANALYZE)');
  await db.query('CHECKPOINT');
  await db.end();
  note(`VACUUM (ANALYZE) and CHECKPOINT in ${((Date.now() - settling) / 1000).toFixed(1)} s`);

  const population = Array.from({ length: Number(values.cards) }, () => cardOf(Math.floor(Math.random() * n)));
  const demoCards = ['6040990000000001', '6040990000000019'];
  // Where each inquiry's CPU goes, from /proc over the whole run (warm-up and drain included, as the
  // generator's own figure): the switch, its PostgreSQL, and the generator, which shares the two cores.
  interface Run { report: LoadReport; switchUs: number; postgresUs: number; generatorUs: number }
  const load = async (pans: string[], duration = values.duration): Promise<Run> => {
    const before = await cpuSeconds(server.pid);
    const report = await runLoadProcess([
      '--port', String(server.port), '--max', '--connections', '4', '--duration', duration, '--warmup', '2', '--pan', ...pans,
    ]);
    const after = await cpuSeconds(server.pid);
    const inquiries = report.sent + report.warmup.sent;
    const us = (s: number): number => Math.round((s * 1e6) / inquiries);
    return { report, switchUs: us(after.selfS - before.selfS), postgresUs: us(after.descendantsS - before.descendantsS), generatorUs: us(report.generator.cpuS) };
  };
  const cpuText = (of: (pick: (r: Run) => number) => number): string =>
    `CPU per inquiry: switch ${of((r) => r.switchUs)}, PostgreSQL ${of((r) => r.postgresUs)}, generator ${of((r) => r.generatorUs)} µs`;
  const results: Record<'demo' | 'population', Run[]> = { demo: [], population: [] };
  // One untimed run of each first, long enough to ask for most cards (~120,000 inquiries for 60,000 cards,
  // 86 % of them asked at least once): the import leaves the ledger in the kernel's page cache, not in
  // PostgreSQL's shared buffers, and a serving switch's steady state is measured, not its first pass over the cards.
  for (const [name, pans] of [['demo', demoCards], ['population', population]] as const) {
    const { report } = await load([...pans], '10');
    note(`  warm-up ${name.padEnd(10)} ${String(report.tps).padStart(6)} TPS  p99 ${report.latencyMs.p99.toFixed(2)} ms (not counted)`);
  }
  for (let i = 0; i < runs; i += 1) {
    for (const [name, pans] of [['demo', demoCards], ['population', population]] as const) {
      const measured = await load([...pans]);
      const { report } = measured;
      results[name].push(measured);
      note(`  run ${i + 1} ${name.padEnd(10)} ${String(report.tps).padStart(6)} TPS  p50 ${report.latencyMs.p50.toFixed(2)} ms  p99 ${report.latencyMs.p99.toFixed(2)} ms  errors ${report.errors}  ${cpuText((pick) => pick(measured))}`);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = (name: 'demo' | 'population'): { tps: number; p50: number; p99: number; cpu: string } => {
    const of = (pick: (r: Run) => number): number => median(results[name].map(pick));
    return {
      tps: of((r) => r.report.tps), p50: of((r) => r.report.latencyMs.p50), p99: of((r) => r.report.latencyMs.p99),
      cpu: cpuText(of),
    };
  };
  const demo = summary('demo');
  const pop = summary('population');
  process.stdout.write(
    `inquiry load, medians of ${runs} interleaved runs (--max, 4 connections, ${values.duration} s):\n` +
    `  demo (3 participants)      ${demo.tps} TPS  p50 ${demo.p50.toFixed(2)} ms  p99 ${demo.p99.toFixed(2)} ms  ${demo.cpu}\n` +
    `  population (${n})  ${pop.tps} TPS  p50 ${pop.p50.toFixed(2)} ms  p99 ${pop.p99.toFixed(2)} ms  ${pop.cpu}\n` +
    `  ratio population/demo      TPS ${(pop.tps / demo.tps).toFixed(3)}  p50 ${(pop.p50 / demo.p50).toFixed(3)}  p99 ${(pop.p99 / demo.p99).toFixed(3)}\n`);
} finally {
  await server.stop();
  if (!values.keep && reuse === undefined) await rm(workDir, { recursive: true, force: true });
}
