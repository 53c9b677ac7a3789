/**
 * Two builds of the switch side by side: this checkout (or `--new` revision) and a base revision (git
 * worktrees made here),
 * each `jht-switch serve` over its own embedded PostgreSQL, driven in turn at the same fixed rate so the
 * machine's noise falls on both alike. For a change that claims to make the switch cheaper or faster.
 * Run by hand:
 *
 *   node --import tsx scripts/bench/compare.ts --base HEAD~1 [--new HEAD] [--rate 2000 | --max] [--runs 4] [--duration 10]
 *
 * Prints each run (TPS, p50/p95/p99, and CPU per inquiry of the switch and of its PostgreSQL), then each
 * build's median TPS and p99 and mean CPU per inquiry, and the ratios new/base. `--max` drives each closed
 * loop (4 x 64 in flight) instead of at a fixed rate: for throughput.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSeconds, runLoadProcess, startSwitchProcess, type ServerProcess } from './processes.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    new: { type: 'string' },
    rate: { type: 'string', default: '2000' },
    max: { type: 'boolean', default: false },
    runs: { type: 'string', default: '4' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '4' },
  },
});
if (!values.base) throw new Error('--base <git revision> is required, e.g. --base HEAD~1');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface RunFigures {
  tps: number;
  p50: number;
  p95: number;
  p99: number;
  switchUs: number;
  databaseUs: number;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function run(server: ServerProcess, name: string): Promise<RunFigures> {
  const before = await cpuSeconds(server.pid);
  const report = await runLoadProcess([
    '--port', String(server.port), '--connections', values.connections, '--duration', values.duration, '--warmup', '2',
    ...(values.max ? ['--max', '--in-flight', '64'] : ['--rate', values.rate]),
  ]);
  const after = await cpuSeconds(server.pid);
  if (report.errors + report.warmup.errors > 0) {
    const kinds = JSON.stringify({ ...report.warmup.errorsByKind, ...report.errorsByKind });
    throw new Error(`${name}: ${report.errors + report.warmup.errors} wrong or missing answers ${kinds}`);
  }
  const inquiries = report.answered + report.warmup.answered;
  return {
    tps: report.tps,
    ...report.latencyMs,
    switchUs: ((after.selfS - before.selfS) * 1e6) / inquiries,
    databaseUs: ((after.descendantsS - before.descendantsS) * 1e6) / inquiries,
  };
}

const workDir = await mkdtemp(path.join(os.tmpdir(), 'jht-compare-'));
await chmod(workDir, 0o755); // as root, the embedded postgres runs as another user
const worktrees: string[] = [];
/** A checkout of `revision` beside this one, sharing its node_modules. */
async function checkout(revision: string): Promise<{ name: string; root: string }> {
  const short = execFileSync('git', ['rev-parse', '--short', revision], { cwd: ROOT, encoding: 'utf8' }).trim();
  const root = path.join(workDir, short);
  execFileSync('git', ['worktree', 'add', '--detach', root, short], { cwd: ROOT, stdio: 'ignore' });
  worktrees.push(root);
  await symlink(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  return { name: short, root };
}

const builds: { name: string; server?: ServerProcess; runs: RunFigures[] }[] = [];
try {
  const baseBuild = await checkout(values.base);
  const newBuild = values.new ? await checkout(values.new) : { name: 'this checkout', root: ROOT };
  for (const { name, root } of [baseBuild, newBuild]) {
    const dir = await mkdtemp(path.join(workDir, 'switch-'));
    await chmod(dir, 0o755);
    builds.push({ name, server: await startSwitchProcess({ workDir: dir, maxConnections: 100, root }), runs: [] });
  }
  const mode = values.max ? 'closed loop (64 in flight per connection)' : `${values.rate}/s`;
  process.stdout.write(`${values.runs} runs each, ${mode}, ${values.connections} connections, 2 s warm-up + ${values.duration} s, interleaved\n`);
  for (let i = 0; i < Number(values.runs); i++) {
    for (const build of builds) {
      const figures = await run(build.server!, build.name);
      build.runs.push(figures);
      process.stdout.write(`  ${build.name.padEnd(14)} ${String(Math.round(figures.tps)).padStart(6)}/s  p50 ${figures.p50.toFixed(2)}  p95 ${figures.p95.toFixed(2)}  p99 ${figures.p99.toFixed(2)} ms` +
        `   CPU per inquiry: switch ${figures.switchUs.toFixed(0)} µs, PostgreSQL ${figures.databaseUs.toFixed(0)} µs   load ${os.loadavg()[0]!.toFixed(2)}\n`);
    }
  }
  const summary = builds.map((b) => ({
    name: b.name,
    tps: median(b.runs.map((r) => r.tps)),
    p99: median(b.runs.map((r) => r.p99)),
    switchUs: mean(b.runs.map((r) => r.switchUs)),
    databaseUs: mean(b.runs.map((r) => r.databaseUs)),
  }));
  for (const s of summary) {
    process.stdout.write(`${s.name.padEnd(16)} median ${Math.round(s.tps)}/s, p99 ${s.p99.toFixed(2)} ms   mean CPU per inquiry: switch ${s.switchUs.toFixed(0)} µs, PostgreSQL ${s.databaseUs.toFixed(0)} µs\n`);
  }
  const [base, next] = summary as [typeof summary[0], typeof summary[0]];
  process.stdout.write(`new / base         TPS ${(next.tps / base.tps).toFixed(2)}   p99 ${(next.p99 / base.p99).toFixed(2)}   switch CPU ${(next.switchUs / base.switchUs).toFixed(2)}   PostgreSQL CPU ${(next.databaseUs / base.databaseUs).toFixed(2)}\n`);
} finally {
  for (const build of builds) await build.server?.stop();
  for (const root of worktrees) execFileSync('git', ['worktree', 'remove', '--force', root], { cwd: ROOT, stdio: 'ignore' });
  await rm(workDir, { recursive: true, force: true });
}
