/** The end-to-end benchmark's results and their table, switch beside echo, with the project's targets. */
import type { LoadReport } from '../../src/loadgen/index.js';


/** One load run, with what each process used of the machine meanwhile (percent of one core). */
export interface RunResult {
  readonly report: LoadReport;
  readonly cpuPercent: { readonly server: number; readonly database: number; readonly generator: number };
}

export interface ServerResults {
  readonly startRssMb: number;
  readonly max: RunResult;
  /** One open-loop run per rate, in the order of BenchResults.rates. */
  readonly rates: readonly RunResult[];
  readonly beforeIdleRssMb: number;
  readonly idleRssMb: number;
}

export interface BenchResults {
  readonly node: string;
  readonly cores: number;
  readonly loadAverageBefore: string;
  readonly loadAverageAfter: string;
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly inFlight: number;
  readonly idleConnections: number;
  readonly rates: readonly number[];
  readonly switch: ServerResults;
  readonly echo: ServerResults;
}

/** The targets the project has set (README "Figures"). */
export const TARGETS = { minTps: 10_000, maxP99Ms: 5, p99AtRate: 2_000, maxIdleRssMb: 200 } as const;

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => n.toFixed(3);
const mb = (n: number): string => n.toFixed(1);

function errorsOf(r: ServerResults): number {
  return [r.max, ...r.rates].reduce((sum, { report }) => sum + report.errors + report.warmup.errors, 0);
}

function codesOf(r: ServerResults): string {
  const codes = new Map<string, number>();
  for (const { report } of [r.max, ...r.rates]) {
    for (const [code, n] of Object.entries(report.responseCodes)) codes.set(code, (codes.get(code) ?? 0) + n);
  }
  return [...codes].sort().map(([code, n]) => `${code} x ${int(n)}`).join(', ');
}

export function formatResults(b: BenchResults): string {
  const rows: [string, string, string, string][] = [];
  const row = (label: string, s: number, e: number, format: (n: number) => string, ratio = true): void => {
    rows.push([label, format(s), format(e), ratio && e > 0 ? (s / e).toFixed(2) : '']);
  };
  const cpuRows = (at: string, s: RunResult, e: RunResult): void => {
    row(`  CPU % of a core at ${at}: server`, s.cpuPercent.server, e.cpuPercent.server, int, false);
    row('    postgres', s.cpuPercent.database, e.cpuPercent.database, int, false);
    row('    generator', s.cpuPercent.generator, e.cpuPercent.generator, int, false);
  };
  const sMax = b.switch.max.report;
  const eMax = b.echo.max.report;
  row(`max TPS (closed loop, ${b.connections} x ${b.inFlight} in flight)`, sMax.tps, eMax.tps, int);
  row('  p50 ms at max', sMax.latencyMs.p50, eMax.latencyMs.p50, ms);
  row('  p99 ms at max', sMax.latencyMs.p99, eMax.latencyMs.p99, ms);
  cpuRows('max', b.switch.max, b.echo.max);
  b.rates.forEach((rate, i) => {
    const s = b.switch.rates[i]!;
    const e = b.echo.rates[i]!;
    row(`p50 ms at ${int(rate)}/s`, s.report.latencyMs.p50, e.report.latencyMs.p50, ms);
    row(`p99 ms at ${int(rate)}/s`, s.report.latencyMs.p99, e.report.latencyMs.p99, ms);
    row(`  generator send lag p99 (included)`, s.report.sendLagMs?.p99 ?? 0, e.report.sendLagMs?.p99 ?? 0, ms, false);
    cpuRows(`${int(rate)}/s`, s, e);
  });
  row('RSS MB at start', b.switch.startRssMb, b.echo.startRssMb, mb, false);
  row(`RSS MB after the runs, no connection`, b.switch.beforeIdleRssMb, b.echo.beforeIdleRssMb, mb, false);
  row(`RSS MB with ${int(b.idleConnections)} idle connections`, b.switch.idleRssMb, b.echo.idleRssMb, mb, false);
  row('errors, all runs (warm-ups included)', errorsOf(b.switch), errorsOf(b.echo), int, false);

  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  const table = [
    `${''.padEnd(width)}${'switch'.padStart(12)}${'echo'.padStart(12)}${'switch/echo'.padStart(14)}`,
    ...rows.map(([label, s, e, ratio]) => `${label.padEnd(width)}${s.padStart(12)}${e.padStart(12)}${ratio.padStart(14)}`),
  ];

  const p99Run = b.rates.indexOf(TARGETS.p99AtRate);
  const p99 = p99Run >= 0 ? b.switch.rates[p99Run]!.report.latencyMs.p99 : undefined;
  const verdict = (met: boolean | undefined): string => (met === undefined ? 'not measured' : met ? 'met' : 'MISSED');
  const targets = [
    [`>= ${int(TARGETS.minTps)} inquiries/s sustained`, `${int(sMax.tps)}/s`, verdict(sMax.tps >= TARGETS.minTps)],
    [`p99 <= ${TARGETS.maxP99Ms} ms at ${int(TARGETS.p99AtRate)}/s`, p99 === undefined ? '-' : `${ms(p99)} ms`, verdict(p99 === undefined ? undefined : p99 <= TARGETS.maxP99Ms)],
    [`RSS <= ${TARGETS.maxIdleRssMb} MB, ${int(b.idleConnections)} idle connections`, `${mb(b.switch.idleRssMb)} MB`, verdict(b.switch.idleRssMb <= TARGETS.maxIdleRssMb)],
    ['every answer correct', `${int(errorsOf(b.switch))} errors`, verdict(errorsOf(b.switch) === 0)],
  ];

  return [
    '',
    `jht-switch end to end: node ${b.node}, ${b.cores} cores, generator in its own process; ${b.warmupS} s warm-up + ${b.durationS} s per run`,
    `load average (1/5/15 min) before ${b.loadAverageBefore}, after ${b.loadAverageAfter}`,
    '',
    ...table,
    '',
    `switch response codes: ${codesOf(b.switch)}`,
    `echo response codes:   ${codesOf(b.echo)}`,
    '',
    'targets (the switch):',
    ...targets.map(([what, value, met]) => `  ${what!.padEnd(44)}${value!.padStart(14)}  ${met}`),
    '',
  ].join('\n');
}
