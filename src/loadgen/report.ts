import { describeResponseCode } from '../iso8583/vocabulary/index.js';
import type { LatencySummary } from './histogram.js';
import type { LoadOptions } from './load-generator.js';
import type { PhaseStats, RunStats } from './stats.js';

export interface LatencyMs {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** What a run measured: the text report and `--json` print exactly this. */
export interface LoadReport {
  target: string;
  mode: 'rate' | 'max';
  /** Requests/s asked for (rate mode). */
  rate?: number;
  /** Requests kept in flight per connection (max mode). */
  inFlightPerConnection?: number;
  connections: number;
  identities: number;
  warmupS: number;
  durationS: number;
  /** The measured window: requests scheduled after the warm-up. */
  sent: number;
  answered: number;
  /** Every failed inquiry or stray answer, timeouts included. */
  errors: number;
  timeouts: number;
  /** Answers per second of the measured window. */
  tps: number;
  /** From the scheduled send time (rate mode) or the send (max mode) to the answer's arrival. */
  latencyMs: LatencyMs;
  /** Rate mode: how late the generator itself sent, already included in latencyMs. */
  sendLagMs?: LatencyMs;
  responseCodes: Record<string, number>;
  errorsByKind: Record<string, number>;
  /** Answers that came after their request had been counted as a timeout. */
  lateAnswers: number;
  warmup: { sent: number; answered: number; errors: number; errorsByKind: Record<string, number> };
  /** The generator's own cost: CPU seconds of this process over the whole run (warm-up and drain included). */
  generator: { cpuS: number; elapsedS: number };
}

const ms = (us: number): number => Math.round(us) / 1000;

function latencyMs(summary: LatencySummary): LatencyMs {
  return { p50: ms(summary.p50Us), p95: ms(summary.p95Us), p99: ms(summary.p99Us), max: ms(summary.maxUs) };
}

function sortedRecord<K extends string>(counts: ReadonlyMap<K, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

export interface ReportInput {
  readonly options: LoadOptions;
  readonly stats: RunStats;
  readonly measuredS: number;
  readonly identities: number;
  readonly cpuS: number;
  readonly elapsedS: number;
}

export function buildReport({ options, stats, measuredS, identities, cpuS, elapsedS }: ReportInput): LoadReport {
  const m: PhaseStats = stats.measured;
  const { mode } = options;
  return {
    target: `${options.host}:${options.port}`,
    mode: mode.kind,
    ...(mode.kind === 'rate' ? { rate: mode.rate } : { inFlightPerConnection: mode.inFlight }),
    connections: options.connections,
    identities,
    warmupS: options.warmupS ?? 0,
    durationS: Math.round(measuredS * 1000) / 1000,
    sent: m.sent,
    answered: m.answered,
    errors: m.errors,
    timeouts: m.timeouts,
    tps: measuredS > 0 ? Math.round(m.answered / measuredS) : 0,
    latencyMs: latencyMs(m.latency.summary()),
    ...(mode.kind === 'rate' ? { sendLagMs: latencyMs(stats.sendLag.summary()) } : {}),
    responseCodes: sortedRecord(m.responseCodes),
    errorsByKind: sortedRecord(m.errorsByKind),
    lateAnswers: stats.lateAnswers,
    warmup: {
      sent: stats.warmup.sent,
      answered: stats.warmup.answered,
      errors: stats.warmup.errors,
      errorsByKind: sortedRecord(stats.warmup.errorsByKind),
    },
    generator: { cpuS: Math.round(cpuS * 100) / 100, elapsedS: Math.round(elapsedS * 100) / 100 },
  };
}

/** Whether the run saw any error, warm-up included: the command's exit status is 1 then. */
export function hasErrors(report: LoadReport): boolean {
  return report.errors > 0 || report.warmup.errors > 0;
}

function latencyLine(label: string, l: LatencyMs): string {
  const f = (v: number): string => v.toFixed(3);
  return `  ${label.padEnd(12)}p50 ${f(l.p50)}  p95 ${f(l.p95)}  p99 ${f(l.p99)}  max ${f(l.max)}`;
}

function kinds(byKind: Record<string, number>): string {
  return Object.entries(byKind).map(([kind, n]) => `${kind} ${n}`).join(', ');
}

/** The report for people: one figure a line. */
export function formatReport(r: LoadReport): string {
  const how = r.mode === 'rate' ? `open loop at ${r.rate}/s` : `closed loop, ${r.inFlightPerConnection} in flight per connection`;
  const lines = [
    `load on ${r.target}: ${r.connections} connection${r.connections === 1 ? '' : 's'}, ${how}, ${r.durationS} s` +
      (r.warmupS > 0 ? ` after ${r.warmupS} s of warm-up` : ''),
    `  sent        ${r.sent}`,
    `  answered    ${r.answered}`,
    `  errors      ${r.errors}${r.errors > 0 ? ` (${kinds(r.errorsByKind)})` : ''}`,
    `  timeouts    ${r.timeouts}`,
    `  duration    ${r.durationS.toFixed(2)} s`,
    `  TPS         ${r.tps}`,
    latencyLine('latency ms', r.latencyMs),
  ];
  if (r.sendLagMs) lines.push(latencyLine('send lag ms', r.sendLagMs) + '  (generator, included above)');
  lines.push('  response codes');
  for (const [code, n] of Object.entries(r.responseCodes)) lines.push(`    ${code}  ${String(n).padStart(9)}  ${describeResponseCode(code)}`);
  if (r.lateAnswers > 0) lines.push(`  late answers (after their timeout) ${r.lateAnswers}`);
  if (r.warmupS > 0) {
    lines.push(`  warm-up     sent ${r.warmup.sent}, answered ${r.warmup.answered}, errors ${r.warmup.errors}` +
      (r.warmup.errors > 0 ? ` (${kinds(r.warmup.errorsByKind)})` : ''));
  }
  const { cpuS, elapsedS } = r.generator;
  const share = elapsedS > 0 ? ((100 * cpuS) / elapsedS).toFixed(0) : '0';
  lines.push(`  generator   ${cpuS.toFixed(2)} s CPU in ${elapsedS.toFixed(2)} s (${share} % of a core)`);
  return `${lines.join('\n')}\n`;
}
