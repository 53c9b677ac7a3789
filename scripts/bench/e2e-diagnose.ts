/**
 * Where the switch's time goes, for the runs given: the switch (`jht-switch serve`) runs against a
 * PostgreSQL started here with pg_stat_statements; each load run prints the statements' calls, execution
 * and planning time per call and per inquiry, and with --cpu-prof the switch's CPU profile is summarised
 * at the end (self time by area and by function, and inclusive time of the project's functions; the
 * profiler slows the switch, so read shares, not rates). Run by hand:
 *
 *   node --import tsx scripts/bench/e2e-diagnose.ts [--duration 5] [--runs="--rate 1000;--max --in-flight 64"] [--cpu-prof]
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../../src/ledger/index.js';
import { EMBEDDED_SWITCH_USER } from '../../src/ledger/database.js';
import { silentLogger } from '../../src/observability/logger.js';
import { DataKey, KeyRing } from '../../src/security/keys/index.js';
import { formatSummary, mainThreadProfile } from './cpu-profile.js';
import { cpuSeconds, freePort, runLoadProcess, startSwitchProcess, type ServerProcess } from './processes.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '4' },
    runs: { type: 'string', default: '--rate 1000;--rate 2000;--max --in-flight 64' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});

interface StatementRow {
  calls: string;
  rows: string;
  exec_ms: number;
  plan_ms: number;
  query: string;
}

const workDir = await mkdtemp(path.join(os.tmpdir(), 'jht-bench-diagnose-'));
await chmod(workDir, 0o755); // as root, postgres runs as another user
const cpuProfDir = values['cpu-prof'] ? path.join(workDir, 'profile') : undefined;
if (cpuProfDir) await mkdir(cpuProfDir);
/** One load run: its figures, and the statements that ran meanwhile, costliest first. */
async function diagnose(admin: pg.Client, sw: ServerProcess, run: readonly string[]): Promise<void> {
  await admin.query('SELECT pg_stat_statements_reset()');
  const before = await cpuSeconds(sw.pid);
  const report = await runLoadProcess(['--port', String(sw.port), '--connections', values.connections, '--duration', values.duration, '--warmup', '1', ...run]);
  const after = await cpuSeconds(sw.pid);
  const inquiries = report.answered + report.warmup.answered;
  process.stdout.write(`\n${run.join(' ')}: ${report.tps}/s, p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms, errors ${report.errors}; ` +
    `switch CPU ${(((after.selfS - before.selfS) * 1e6) / inquiries).toFixed(0)} µs per inquiry\n`);
  const { rows } = await admin.query<StatementRow>(`
    SELECT calls, rows, total_exec_time AS exec_ms, total_plan_time AS plan_ms, regexp_replace(query, '\\s+', ' ', 'g') AS query
    FROM pg_stat_statements WHERE calls >= 10 AND query NOT LIKE '%pg_stat_statements%'
    ORDER BY total_exec_time + total_plan_time DESC LIMIT 8`);
  process.stdout.write('     calls  per inq  rows/call  exec µs/call  plan µs/call  µs per inquiry  statement\n');
  for (const r of rows) {
    const calls = Number(r.calls);
    process.stdout.write(`  ${String(calls).padStart(8)}  ${(calls / inquiries).toFixed(3).padStart(7)}  ${(Number(r.rows) / calls).toFixed(1).padStart(9)}` +
      `  ${((1000 * r.exec_ms) / calls).toFixed(0).padStart(12)}  ${((1000 * r.plan_ms) / calls).toFixed(0).padStart(12)}` +
      `  ${((1000 * (r.exec_ms + r.plan_ms)) / inquiries).toFixed(1).padStart(14)}  ${r.query.slice(0, 70)}\n`);
  }
}

// The switch reaches this cluster by DATABASE_URL, as an external database, so it needs a real data key
// (SECURITY.md, "Key loading"): a random one of this run's own, in a 0600 file, hashes the demo data too.
const keyMaterial = randomBytes(32);
const keyFile = path.join(workDir, 'data-key');
await writeFile(keyFile, `${keyMaterial.toString('hex')}\n`, { mode: 0o600 });
const port = await freePort();
const database = await openDatabase({
  dataDir: path.join(workDir, 'pg'), port, keys: new KeyRing({ current: new DataKey(keyMaterial) }), log: silentLogger(), seedDemo: true,
  serverSettings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_planning': 'on' },
});
// The embedded cluster's passwords, kept beside its data directory (src/ledger/embedded-server.ts): the
// superuser's for pg_stat_statements, the switch's own login for the switch (serve refuses a superuser).
const password = (await readFile(path.join(workDir, 'pg.password'), 'utf8')).trim();
const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/jht_switch`;
const switchPassword = (await readFile(path.join(workDir, `pg.${EMBEDDED_SWITCH_USER}.password`), 'utf8')).trim();
const switchUrl = `postgresql://${EMBEDDED_SWITCH_USER}:${encodeURIComponent(switchPassword)}@127.0.0.1:${port}/jht_switch`;
const admin = new pg.Client({ connectionString: url });
let sw: ServerProcess | undefined;
try {
  await admin.connect();
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  process.env.DATABASE_URL = switchUrl; // seeded above with the demo data, under the same key
  process.env.JHT_DATA_KEY_FILE = keyFile;
  if (process.getuid?.() === 0) process.env.JHT_ALLOW_ROOT = '1'; // a throw-away cluster of this script's own
  sw = await startSwitchProcess({ workDir, maxConnections: 200, ...(cpuProfDir ? { cpuProfDir } : {}) });
  for (const run of values.runs.split(';').map((r) => r.trim().split(/\s+/))) await diagnose(admin, sw, run);
  await sw.stop();
  if (cpuProfDir) {
    const main = await mainThreadProfile(cpuProfDir);
    process.stdout.write(main ? `\n${formatSummary(main.summary)}\n` : '\nno CPU profile was written\n');
  }
} finally {
  await sw?.stop();
  await admin.end().catch(() => undefined);
  await database.stop();
  await rm(workDir, { recursive: true, force: true });
}
