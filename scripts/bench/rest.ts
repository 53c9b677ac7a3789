/**
 * REST benchmark: `POST /v1/balance-inquiries` on the real `jht-switch serve` (embedded demo, its development
 * issuer, the durable journal) against a bare fastify route returning a constant JSON body, in the same run,
 * driven by autocannon from this process. Run by hand:
 *
 *   npm run bench:rest [-- --duration 10 --connections 256 --rounds 3]
 *   npm run bench:rest -- --cpu-prof     # also profile the switch (read the profile, not the figures)
 *
 * Three figures per round: the bare route; REST with tokens reused as a channel back-end reuses them (one
 * per client and participant session, so the verification is cached); REST with a fresh token on every
 * request (each one verified: signature, claims). Prints requests/s, p50/p99 and, per round, the ratios to
 * the bare route, then their medians. 256 connections by default: each REST inquiry waits for two database
 * round trips (the read, the durable journal commit), so at low concurrency it is bound by latency (in flight /
 * latency) long before the CPU, while the bare route saturates the CPU with a few dozen.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { DevIssuer } from '../../src/channels/rest/dev-issuer.js';
import { formatSummary, mainThreadProfile } from './cpu-profile.js';
import { cpuSeconds, freePort, startSwitchProcess, type ServerProcess } from './processes.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'skip-fresh': { type: 'boolean', default: false },
  },
});
const durationS = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const PARTICIPANTS = ['12000000001', '12000000002'];

interface Figure {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  serverCpuPercent: number;
  /** CPU per request, µs: the server's own, its PostgreSQL's (descendants), autocannon's (this process). */
  serverUs: number;
  databaseUs: number;
  clientUs: number;
}

function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function startBare(): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'bare-fastify.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`bare fastify exited with ${code}`)));
  });
  return { name: 'bare', pid: child.pid!, port, stop: async () => void child.kill('SIGTERM') };
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} not answering after ${timeoutMs} ms`);
      await sleep(200);
    }
  }
}

async function run(name: string, pid: number, options: autocannon.Options): Promise<Figure> {
  const before = await cpuSeconds(pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const result = await autocannon({ connections, duration: durationS, method: 'POST', ...options });
  const client = process.cpuUsage(clientBefore);
  const after = await cpuSeconds(pid);
  const wallS = (performance.now() - started) / 1000;
  const perRequestUs = (seconds: number) => (1e6 * seconds) / Math.max(1, result.requests.total);
  const figure: Figure = {
    name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors,
    serverCpuPercent: (100 * (after.selfS - before.selfS)) / wallS,
    serverUs: perRequestUs(after.selfS - before.selfS),
    databaseUs: perRequestUs(after.descendantsS - before.descendantsS),
    clientUs: perRequestUs((client.user + client.system) / 1e6),
  };
  note(`  ${name.padEnd(22)} ${figure.rps.toFixed(0).padStart(7)} req/s  p50 ${figure.p50} ms  p99 ${figure.p99} ms  non-2xx ${figure.non2xx}  errors ${figure.errors}  server CPU ${figure.serverCpuPercent.toFixed(0)} %`
    + `  CPU/request: server ${figure.serverUs.toFixed(0)} µs, PostgreSQL ${figure.databaseUs.toFixed(0)} µs, autocannon ${figure.clientUs.toFixed(0)} µs`);
  return figure;
}

const workDir = await mkdtemp(path.join(os.tmpdir(), 'jht-bench-rest-'));
await chmod(workDir, 0o755); // as root, postgres runs as another user and must enter it
const restPort = await freePort();
note(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const cpuProfDir = values['cpu-prof'] ? path.join(workDir, 'profile') : undefined;
if (cpuProfDir) await mkdir(cpuProfDir);
const server = await startSwitchProcess({
  workDir, maxConnections: 64, ...(cpuProfDir ? { cpuProfDir } : {}),
  extraConfig: {
    log: { level: 'warn' },
    channels: { rest: { port: restPort, limits: { clientRequestsPerSecond: 1e9, clientBurst: 1e9, participantRequestsPerMinute: 1e12, participantBurst: 1e9 } } },
  },
});
const bare = await startBare();
const restUrl = `http://127.0.0.1:${restPort}/v1/balance-inquiries`;
try {
  await waitForHttp(`http://127.0.0.1:${restPort}/openapi.json`, 60_000);
  const issuer = await DevIssuer.open(path.join(workDir, 'pg'));
  if (!issuer) throw new Error('the switch made no development issuer');
  const sessions = await Promise.all(PARTICIPANTS.map(async (kpj) => ({
    kpj, token: await issuer.sign({ clientId: 'demo-app', subject: kpj, scope: 'jht:balance:self', audience: 'jht-switch', lifetimeSeconds: 3_600 }),
  })));
  // Enough fresh tokens that none is used twice in any round: a generous guess of the rate (up to 6,200/s
  // measured on 2 cores, quiet) times the duration, for every round.
  const freshCount = values['skip-fresh'] ? 0 : Math.max(20_000, 8_000 * durationS * rounds);
  note(`signing ${freshCount} fresh tokens ...`);
  const fresh: { kpj: string; token: string }[] = [];
  for (let i = 0; i < freshCount; i++) {
    const kpj = PARTICIPANTS[i % PARTICIPANTS.length]!;
    fresh.push({ kpj, token: await issuer.sign({ clientId: 'demo-app', subject: kpj, scope: 'jht:balance:self', audience: 'jht-switch', lifetimeSeconds: 3_600 }) });
  }
  const headersOf = (token: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });
  // A session per connection, as a channel back-end keeps one: its token and its participant, set once, so
  // autocannon sends a prebuilt request (building one per request costs the client twice the bare route's CPU).
  let sessionOfNextConnection = 0;
  const reusedTokens = (): autocannon.Options => ({
    url: restUrl,
    setupClient: (client) => {
      const { kpj, token } = sessions[sessionOfNextConnection++ % sessions.length]!;
      client.setHeadersAndBody(headersOf(token), JSON.stringify({ kpj }));
    },
  });
  const freshTokens = (pick: () => { kpj: string; token: string }): autocannon.Options => ({
    url: restUrl,
    requests: [{
      setupRequest: (request) => {
        const { kpj, token } = pick();
        return { ...request, headers: headersOf(token), body: JSON.stringify({ kpj }) };
      },
    }],
  });
  let next = 0;
  let outOfFresh = false;
  const figures: Figure[][] = [];
  note(`warm-up (3 s each), then ${rounds} round(s) of ${durationS} s, ${connections} connections`);
  await autocannon({ url: `http://127.0.0.1:${bare.port}/bare`, method: 'POST', connections, duration: 3 });
  await autocannon({ connections, duration: 3, method: 'POST', ...reusedTokens() });
  for (let round = 0; round < rounds; round++) {
    figures.push([
      await run('bare fastify', bare.pid, { url: `http://127.0.0.1:${bare.port}/bare`, headers: { 'content-type': 'application/json' }, body: '{"kpj":"12000000001"}' }),
      await run('REST, tokens reused', server.pid, reusedTokens()),
      // Never throw here: autocannon calls this inside its HTTP parser, where a throw kills this process
      // and leaves the servers running. A run that ran out is reported as such instead.
      ...(values['skip-fresh'] ? [] : [await run('REST, fresh token each', server.pid, freshTokens(() => {
        if (next >= fresh.length) outOfFresh = true;
        return fresh[next++ % fresh.length]!;
      }))]),
    ]);
  }
  note(`fresh tokens used: ${next} of ${fresh.length}${outOfFresh ? ' (RAN OUT: some were used twice, so the fresh-token figure is too kind; raise freshCount)' : ''}`);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = (i: number) => figures.map((f) => (100 * f[i]!.rps) / f[0]!.rps);
  const show = (xs: number[]) => `median ${median(xs).toFixed(1)} %  (rounds: ${xs.map((x) => `${x.toFixed(1)} %`).join(', ')})`;
  note('');
  note(`REST, tokens reused / bare:     ${show(ratios(1))}  (target >= 40 %)`);
  if (!values['skip-fresh']) note(`REST, fresh token each / bare:  ${show(ratios(2))}`);
  note(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  await bare.stop();
  await server.stop();
  const profile = cpuProfDir ? await mainThreadProfile(cpuProfDir) : undefined;
  if (profile) note(`\nswitch CPU profile (${profile.file}):\n${formatSummary(profile.summary)}`);
  if (!values.keep && !cpuProfDir) await rm(workDir, { recursive: true, force: true });
}
