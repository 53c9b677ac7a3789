/**
 * End-to-end benchmark: the real switch (`jht-switch serve` over its embedded PostgreSQL, or DATABASE_URL)
 * against the framed echo server (same transport and codec, no database, no pipeline), both driven by the
 * same load generator running in a process of its own. Run by hand:
 *
 *   npm run bench:e2e [-- --duration 10 --warmup 2 --rates 1000,2000 --connections 4 --in-flight 64 --idle 1000]
 *   npm run bench:e2e -- --json results.json   # also keep every run's full report
 *   npm run bench:e2e -- --cpu-prof            # also profile the switch (slower: read the profile, not the figures)
 *   npm run bench:e2e -- --keep                # keep the switch's config and log (JSON lines) afterwards
 *
 * (scripts/bench/e2e-diagnose.ts breaks the switch's time down: database statements, CPU profile.)
 *
 * Prints, for both servers: max TPS (closed loop), p50/p99 latency at fixed rates (open loop, from the
 * scheduled send time), the ratios switch/echo, the server's RSS with `--idle` signed-on idle connections,
 * and the load average before and after. 2 cores: one for the server, one for the generator, and
 * PostgreSQL shares them, as it would in production on such a machine.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { openIdleConnections } from '../../src/loadgen/index.js';
import { formatSummary, mainThreadProfile } from './cpu-profile.js';
import { formatResults, type BenchResults, type RunResult, type ServerResults } from './e2e-report.js';
import { cpuSeconds, rssMb, runLoadProcess, startEchoProcess, startSwitchProcess, type ServerProcess } from './processes.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rates: { type: 'string', default: '1000,2000' },
    connections: { type: 'string', default: '4' },
    'in-flight': { type: 'string', default: '64' },
    idle: { type: 'string', default: '1000' },
    'cpu-prof': { type: 'boolean', default: false },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const rates = values.rates.split(',').map(Number);
const connections = Number(values.connections);
const inFlight = Number(values['in-flight']);
const idleCount = Number(values.idle);

const loadAverage = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function load(server: ServerProcess, mode: readonly string[]): Promise<RunResult> {
  const before = await cpuSeconds(server.pid);
  const started = performance.now();
  const report = await runLoadProcess([
    '--port', String(server.port), '--connections', String(connections), '--duration', String(durationS), '--warmup', String(warmupS), ...mode,
  ]);
  const after = await cpuSeconds(server.pid);
  // The generator's own count covers its run (not its start-up); the servers' covers the same span, roughly.
  const wallS = Math.min((performance.now() - started) / 1000, report.generator.elapsedS + 0.5);
  const cpuPercent = {
    server: (100 * (after.selfS - before.selfS)) / wallS,
    database: (100 * (after.descendantsS - before.descendantsS)) / wallS,
    generator: (100 * report.generator.cpuS) / Math.max(0.001, report.generator.elapsedS),
  };
  const errors = report.errors + report.warmup.errors;
  note(`  ${server.name.padEnd(6)} ${mode.join(' ').padEnd(16)} ${String(report.tps).padStart(6)}/s  p50 ${report.latencyMs.p50.toFixed(3)} ms` +
    `  p99 ${report.latencyMs.p99.toFixed(3)} ms  errors ${errors}  CPU server ${cpuPercent.server.toFixed(0)} %` +
    ` postgres ${cpuPercent.database.toFixed(0)} % generator ${cpuPercent.generator.toFixed(0)} %`);
  return { report, cpuPercent };
}

async function idleRss(server: ServerProcess): Promise<{ beforeMb: number; idleMb: number }> {
  const beforeMb = await rssMb(server.pid);
  const idle = await openIdleConnections({ host: '127.0.0.1', port: server.port, count: idleCount });
  try {
    await sleep(2_000); // let the server settle (buffers, GC) with the connections open
    const idleMb = await rssMb(server.pid);
    note(`  ${server.name.padEnd(6)} RSS ${beforeMb.toFixed(1)} MB -> ${idleMb.toFixed(1)} MB with ${idle.count} idle connections`);
    return { beforeMb, idleMb };
  } finally {
    await idle.close();
  }
}

/** Starts both servers, runs every measurement on each, stops them: the figures. */
async function measure(workDir: string, cpuProfDir: string | undefined): Promise<BenchResults> {
  const loadBefore = loadAverage();
  note(`node ${process.version}, ${os.cpus().length} cores; load average before: ${loadBefore}`);
  note(`starting the switch (embedded PostgreSQL in ${workDir}) and the echo server ...`);
  const servers: ServerProcess[] = [];
  const startRss = new Map<string, number>();
  const maxRuns = new Map<string, RunResult>();
  const rateRuns = new Map<string, RunResult[]>([['switch', []], ['echo', []]]);
  const memory = new Map<string, { beforeMb: number; idleMb: number }>();
  try {
    // The idle connections all come from this host and sign on together: above the per-source cap on
    // connections not signed on yet (transport.maxUnsignedPerSource, 8 by default), which would close them.
    servers.push(await startSwitchProcess({
      workDir, maxConnections: idleCount + 100, ...(cpuProfDir ? { cpuProfDir } : {}),
      extraConfig: { transport: { maxUnsignedPerSource: idleCount + 100 } },
    }));
    servers.push(await startEchoProcess());
    for (const server of servers) startRss.set(server.name, await rssMb(server.pid));
    note(`closed loop, ${connections} connections x ${inFlight} in flight, ${warmupS} s warm-up + ${durationS} s:`);
    // Switch then echo for each scenario, so noise on the machine falls on both alike.
    for (const server of servers) maxRuns.set(server.name, await load(server, ['--max', '--in-flight', String(inFlight)]));
    for (const rate of rates) {
      note(`open loop at ${rate}/s, ${connections} connections, ${warmupS} s warm-up + ${durationS} s:`);
      for (const server of servers) rateRuns.get(server.name)!.push(await load(server, ['--rate', String(rate)]));
    }
    note(`${idleCount} idle connections, signed on:`);
    for (const server of servers) memory.set(server.name, await idleRss(server));
  } finally {
    for (const server of servers) await server.stop();
  }
  const resultsOf = (name: string): ServerResults => ({
    startRssMb: startRss.get(name)!,
    max: maxRuns.get(name)!,
    rates: rateRuns.get(name)!,
    beforeIdleRssMb: memory.get(name)!.beforeMb,
    idleRssMb: memory.get(name)!.idleMb,
  });
  return {
    node: process.version, cores: os.cpus().length, loadAverageBefore: loadBefore, loadAverageAfter: loadAverage(),
    durationS, warmupS, connections, inFlight, idleConnections: idleCount, rates,
    switch: resultsOf('switch'), echo: resultsOf('echo'),
  };
}

const workDir = await mkdtemp(path.join(os.tmpdir(), 'jht-bench-'));
// As root, the embedded postgres runs as another user and must be able to enter the directory.
await chmod(workDir, 0o755);
const cpuProfDir = values['cpu-prof'] ? path.join(workDir, 'profile') : undefined;
const keep = values.keep || cpuProfDir !== undefined;
try {
  if (cpuProfDir) await mkdir(cpuProfDir);
  const bench = await measure(workDir, cpuProfDir);
  process.stdout.write(formatResults(bench));
  if (values.json) {
    await writeFile(values.json, `${JSON.stringify(bench, null, 2)}\n`);
    note(`results written to ${values.json}`);
  }
  if (cpuProfDir) {
    const profile = await mainThreadProfile(cpuProfDir);
    process.stdout.write(profile ? `\n${formatSummary(profile.summary)}\nprofile: ${profile.file}\n` : '\nno CPU profile was written\n');
  }
} finally {
  await rm(keep ? path.join(workDir, 'pg') : workDir, { recursive: true, force: true });
  if (keep) note(`switch log, config${cpuProfDir ? ' and CPU profiles' : ''} kept in ${workDir}`);
}
