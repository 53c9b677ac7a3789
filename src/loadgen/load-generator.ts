import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FramingName } from '../transport/framing/index.js';
import { LoadgenError } from './errors.js';
import { DEFAULT_PANS, demoAnswerFor, type Identity } from './identities.js';
import { MAX_RING_SIZE } from './in-flight-requests.js';
import { LoadConnection, endpointOptions } from './load-connection.js';
import { buildReport, type LoadReport } from './report.js';
import { RunStats } from './stats.js';

/** Open loop: `rate` requests/s in total, on a schedule. Closed loop: `inFlight` per connection, refilled on each answer. */
export type LoadMode =
  | { readonly kind: 'rate'; readonly rate: number }
  | { readonly kind: 'max'; readonly inFlight: number };

export interface LoadProgress {
  readonly elapsedS: number;
  readonly sent: number;
  readonly answered: number;
  readonly errors: number;
  /** Answers in the last second. */
  readonly tps: number;
}

export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  readonly mode: LoadMode;
  readonly durationS: number;
  readonly warmupS?: number;
  /** Cards and accounts, used in turn on each connection; default the contract's two approved demo cards. */
  readonly identities?: readonly Identity[];
  /**
   * Check each answer against the contract's demo data (39, and 48 / 54 byte for byte). Default: on when
   * the identities are the default demo cards.
   */
  readonly checkDemoAnswers?: boolean;
  readonly acquirerId?: string;
  readonly profile?: string;
  readonly framing?: FramingName;
  /** An answer later than this counts as a timeout. Default 5000 ms. */
  readonly timeoutMs?: number;
  readonly onProgress?: (progress: LoadProgress) => void;
  /** Ends the run early (Ctrl-C): sending stops, what is in flight is awaited. */
  readonly signal?: AbortSignal;
}

/** Most connections one run opens: field 41 carries a 5-digit connection number. */
export const MAX_CONNECTIONS = 99_999;
/** Identities are indexed by 16 bits per request. */
const MAX_IDENTITIES = 65_535;
const MONITOR_MS = 100;
const TICK_MS = 1;

function check(options: LoadOptions): void {
  const bad = (what: string): never => {
    throw new LoadgenError('LOADGEN_BAD_OPTIONS', what);
  };
  if (!Number.isInteger(options.connections) || options.connections < 1 || options.connections > MAX_CONNECTIONS) {
    bad(`connections must be 1 to ${MAX_CONNECTIONS}`);
  }
  if (!(options.durationS > 0)) bad('duration must be more than 0 s');
  if ((options.warmupS ?? 0) < 0) bad('warm-up cannot be negative');
  if (options.mode.kind === 'rate' && !(options.mode.rate > 0)) bad('rate must be more than 0 requests/s');
  if (options.mode.kind === 'max' && !(Number.isInteger(options.mode.inFlight) && options.mode.inFlight >= 1)) {
    bad('in-flight must be a whole number of at least 1');
  }
  if (options.identities !== undefined && (options.identities.length === 0 || options.identities.length > MAX_IDENTITIES)) {
    bad(`give 1 to ${MAX_IDENTITIES} cards or accounts`);
  }
}

/** Three characters that make this run's terminal IDs (41) its own, so runs never share a duplicate key. */
function runTag(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from({ length: 3 }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/**
 * Opens the connections, signs each on, drives balance inquiries at them for warm-up + duration,
 * waits for what is in flight, and returns the figures. Wrong answers are counted, not thrown; it
 * rejects only when it cannot start (connect, sign-on, options).
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  check(options);
  const identities = options.identities ?? DEFAULT_PANS.map((value): Identity => ({ kind: 'pan', value }));
  const checkDemo = options.checkDemoAnswers ?? options.identities === undefined;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const stats = new RunStats(Number.POSITIVE_INFINITY);
  const shared = {
    ...endpointOptions(options),
    identities,
    expected: identities.map((identity) => (checkDemo ? demoAnswerFor(identity) : undefined)),
    stats,
    timeoutMs,
  };
  const tag = runTag();
  // Enough ring slots for what is normally in flight; slower answers are still tracked, in a Map.
  const perConnection = options.mode.kind === 'max'
    ? options.mode.inFlight * 16
    : (options.mode.rate * (timeoutMs + 1000)) / 1000 / options.connections;
  const ringSize = Math.min(MAX_RING_SIZE, Math.max(1024, Math.ceil(perConnection)));
  const opening = Array.from({ length: options.connections }, (_, i) => LoadConnection.connect({
    ...shared, terminalId: `${tag}${String(i + 1).padStart(5, '0')}`, firstIdentity: i, ringSize,
  }));
  const settled = await Promise.allSettled(opening);
  const connections = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    await Promise.all(connections.map((c) => c.signOn(timeoutMs)));

    const cpuAtStart = process.cpuUsage();
    const start = performance.now();
    stats.measureFromMs = start + (options.warmupS ?? 0) * 1000;
    const end = stats.measureFromMs + options.durationS * 1000;
    const monitor = startMonitor(connections, stats, start, options);
    try {
      const { mode } = options;
      if (mode.kind === 'rate') await driveAtRate(connections, stats, mode.rate, plannedRequests(options, mode.rate), start, options.signal);
      else await driveClosedLoop(connections, mode.inFlight, end, options.signal);
      await drain(connections, performance.now() + timeoutMs);
    } finally {
      clearInterval(monitor);
    }
    for (const c of connections) c.sweep(Number.POSITIVE_INFINITY);
    const finished = performance.now();
    const measuredS = Math.max(0, Math.min(finished, end) - stats.measureFromMs) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    return buildReport({
      options, stats, measuredS, identities: identities.length, cpuS: (cpu.user + cpu.system) / 1e6, elapsedS: (finished - start) / 1000,
    });
  } finally {
    await Promise.all(connections.map((c) => c.close()));
  }
}

/** Times out old requests (and refills closed-loop windows they free), and reports progress once a second. */
function startMonitor(connections: readonly LoadConnection[], stats: RunStats, start: number, options: LoadOptions): NodeJS.Timeout {
  let lastReport = start;
  let lastAnswered = 0;
  return setInterval(() => {
    const now = performance.now();
    for (const c of connections) {
      c.sweep(now);
      c.refill();
      c.flush();
    }
    if (options.onProgress && now - lastReport >= 1000) {
      const answered = stats.answered;
      options.onProgress({
        elapsedS: (now - start) / 1000, sent: stats.sent, answered, errors: stats.errors,
        tps: ((answered - lastAnswered) * 1000) / (now - lastReport),
      });
      lastReport = now;
      lastAnswered = answered;
    }
  }, MONITOR_MS);
}

/** Counted from the options, not from float milliseconds: 0.25 s + 1.5 s at 400/s is 700, not 699. */
function plannedRequests(options: LoadOptions, rate: number): number {
  return Math.floor(((options.warmupS ?? 0) + options.durationS) * rate + 1e-6);
}

/**
 * Open loop: request i is due at start + i / rate, whatever the answers do. Each tick sends what has
 * come due, round-robin over the open connections, one write per connection per tick.
 */
async function driveAtRate(
  connections: readonly LoadConnection[], stats: RunStats, rate: number, total: number, start: number, signal?: AbortSignal,
): Promise<void> {
  const spacingMs = 1000 / rate;
  let next = 0;
  let turn = 0;
  while (next < total && signal?.aborted !== true) {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - start) / spacingMs) + 1);
    for (; next < due; next++) {
      const scheduled = start + next * spacingMs;
      if (!sendOnNextOpen(connections, scheduled, turn++)) return;
      stats.recordSendLag(scheduled, now);
    }
    for (const c of connections) c.flush();
    await sleep(TICK_MS);
  }
}

function sendOnNextOpen(connections: readonly LoadConnection[], scheduledMs: number, turn: number): boolean {
  const n = connections.length;
  for (let i = 0; i < n; i++) {
    if (connections[(turn + i) % n]!.send(scheduledMs)) return true;
  }
  return false;
}

/** Closed loop: each connection keeps `inFlight` requests outstanding until the end. */
async function driveClosedLoop(connections: readonly LoadConnection[], inFlight: number, end: number, signal?: AbortSignal): Promise<void> {
  for (const c of connections) {
    c.window = inFlight;
    c.refill();
    c.flush();
  }
  while (performance.now() < end && signal?.aborted !== true && connections.some((c) => c.isOpen)) {
    await sleep(Math.min(50, Math.max(1, end - performance.now())));
  }
  for (const c of connections) c.accepting = false;
}

async function drain(connections: readonly LoadConnection[], deadline: number): Promise<void> {
  while (performance.now() < deadline && connections.some((c) => c.inFlight > 0)) await sleep(5);
}
