/**
 * The benchmark's processes: the switch (the real `jht-switch serve`, with its embedded PostgreSQL in a
 * temp directory), the framed echo server, and load generator runs, each a child of its own, so the
 * server and the generator each get a core.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { LoadReport } from '../../src/loadgen/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/jht-switch.js');
const LOAD_CLI = path.join(ROOT, 'scripts/bench/load-cli.ts');
const ECHO = path.join(ROOT, 'scripts/bench/echo-process.ts');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process, from /proc (Linux). */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface ProcStat {
  readonly ppid: number;
  /** User + system CPU, seconds. */
  readonly cpuS: number;
}

async function procStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) may hold spaces: count fields from after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuS: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** CPU seconds used so far by a process, and by all its descendants (the switch's PostgreSQL). */
export async function cpuSeconds(pid: number): Promise<{ selfS: number; descendantsS: number }> {
  const stats = new Map<number, ProcStat>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await procStat(Number(name));
    if (stat) stats.set(Number(name), stat);
  }
  const children = new Map<number, number[]>();
  for (const [child, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), child]);
  let descendantsS = 0;
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.pop()!;
    descendantsS += stats.get(next)?.cpuS ?? 0;
    queue.push(...(children.get(next) ?? []));
  }
  return { selfS: stats.get(pid)?.cpuS ?? 0, descendantsS };
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Waits until the port accepts connections, failing early if the process dies first. */
async function waitForPort(child: ChildProcess, port: number, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before listening:\n${describe()}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await sleep(200);
  }
  throw new Error(`not listening on ${port} after ${timeoutMs} ms:\n${describe()}`);
}

/** SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

export interface SwitchProcessOptions {
  /** Where the embedded cluster, the config and the logs go. */
  readonly workDir: string;
  /** Idle connections the benchmark opens: the demo partner's limit is raised above it. */
  readonly maxConnections: number;
  /** Write a V8 CPU profile of the switch into this directory when it stops. */
  readonly cpuProfDir?: string;
  /** More node flags for the switch (`--trace-gc`, heap sizes ...). */
  readonly nodeArgs?: readonly string[];
  /** The checkout to run the switch from (another revision, see compare.ts); default this one. */
  readonly root?: string;
  /** More configuration on top (e.g. `channels` for the REST benchmark). */
  readonly extraConfig?: Record<string, unknown>;
}

/** The node flags of the deployed unit (its ExecStart, between node and the script), so the bench runs what is deployed. */
async function deployedNodeFlags(): Promise<string[]> {
  const unit = await readFile(path.join(ROOT, 'ops/systemd/jht-switch.service'), 'utf8');
  const exec = /^ExecStart=\S+ (.*?) \S+\/bin\/jht-switch\.js serve/m.exec(unit);
  return exec ? exec[1]!.split(/\s+/).filter((flag) => flag.startsWith('--')) : [];
}

/** The benchmark measures the switch, not the partner's rate limit (200/s by default). */
const BENCH_REQUESTS_PER_SECOND = 1_000_000;

/**
 * `jht-switch serve` as deployed: the node flags of ops/systemd/jht-switch.service, default settings (log
 * level info, JSON lines to a file, metrics and the admin socket on, the embedded PostgreSQL with its default
 * durability), except the demo partner may open `maxConnections` and is not rate-limited (the default 200/s
 * would cap the benchmark), and every port and socket is this run's own.
 * With DATABASE_URL set (a member of jht_switch), that server is used instead: migrate and seed it first
 * (`jht-switch migrate --database-url <owner's URL> --seed-demo`).
 */
export async function startSwitchProcess(options: SwitchProcessOptions): Promise<ServerProcess> {
  const port = await freePort();
  const config = {
    listen: { host: '127.0.0.1', port },
    database: { dataDir: path.join(options.workDir, 'pg'), embeddedPort: await freePort() },
    partners: [{ id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'], limits: { maxConnections: options.maxConnections, requestsPerSecond: BENCH_REQUESTS_PER_SECOND } }],
    // Operations stay on, as deployed, but on a socket and a port of this run's own.
    admin: { socketPath: path.join(options.workDir, 'admin.sock') },
    metrics: { port: await freePort() },
    // REST of its own too: two switches side by side (compare.ts) must not both want 8080, or the second stops.
    // A build from before the REST channel has no `channels` in its (strict) configuration.
    ...(existsSync(path.join(options.root ?? ROOT, 'src/channels/rest')) ? { channels: { rest: { port: await freePort() } } } : {}),
    ...options.extraConfig,
  };
  const configFile = path.join(options.workDir, 'switch.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const logFd = openSync(path.join(options.workDir, 'switch.log'), 'a');
  const nodeArgs = [...await deployedNodeFlags(), ...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []), ...(options.nodeArgs ?? [])];
  const root = options.root ?? ROOT;
  const bin = options.root ? path.join(options.root, 'bin/jht-switch.js') : BIN;
  const args = [...nodeArgs, bin, 'serve', '--config', configFile];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', logFd, 'pipe']});
  closeSync(logFd);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    // A new embedded cluster runs initdb first: that takes a while on a busy machine.
    await waitForPort(child, port, 180_000, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { name: 'switch', pid: child.pid!, port, stop: () => terminate(child, 30_000) };
}

export async function startEchoProcess(): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ECHO], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return { name: 'echo', pid: child.pid!, port, stop: () => terminate(child, 5_000) };
}

/** One `jht-switch load ... --json` run in a child process; its report. */
export async function runLoadProcess(args: readonly string[]): Promise<LoadReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', LOAD_CLI, ...args, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  // 'close', not 'exit': the report may still be in the pipe when the process has exited.
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // 1 means the run saw wrong answers: the report says which, and the benchmark shows them.
  if (status !== 0 && status !== 1) throw new Error(`load ${args.join(' ')} exited with ${status}: ${stderr.trim()}`);
  if (stdout.trim() === '') throw new Error(`load ${args.join(' ')} exited with ${status} and no report: ${stderr.trim()}`);
  return JSON.parse(stdout) as LoadReport;
}
