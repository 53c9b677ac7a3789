import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerState } from '../ledger/index.js';
import type { SwitchObserver } from './observer.js';
import { Mti } from '../iso8583/vocabulary/index.js';
import { RecentStats } from './recent-stats.js';

/**
 * The switch answers in 0.2-50 ms; the ledger's budget is 250 ms, so 0.25 separates "slow" from "timed out".
 * Everything past 1 s lands in +Inf: it is already an outage.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

/** The gauge's value for each breaker state, in order of badness so that alerts can say `>= 2`. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export const DEFAULT_METRICS_PREFIX = 'jht_';

/** Label values for what the switch could not attribute, or for input that must not become a label. */
const UNKNOWN_PARTNER = 'unknown';
const INVALID_LABEL = 'invalid';
/** The one label value of every MTI the switch does not know: a peer sending 0000-9999 makes one series, not 10,000. */
export const OTHER_MTI_LABEL = 'other';
// MTI and response code may come from a partner's bytes; only known MTIs and well-formed codes become
// series, so that a peer cannot grow the number of time series without bound.
const KNOWN_MTIS: ReadonlySet<string> = new Set(Object.values(Mti));
const RESPONSE_CODE_LABEL = /^[0-9A-Z]{2}$/;

/** What the switch's scrape-time gauges read; bound once the switch is running. */
export interface MetricSources {
  breakerState(): BreakerState;
  journalQueueDepth(): number;
}

export interface SwitchMetricsOptions {
  /** A fresh registry by default (never prom-client's global one: tests and embedders stay isolated). */
  registry?: Registry;
  prefix?: string;
  /** Node process metrics (CPU, memory, event loop lag, GC) on the same registry; on by default. */
  defaultMetrics?: boolean;
  /** The window of {@link SwitchMetrics.recent}, in seconds. */
  recentWindowSeconds?: number;
}

/**
 * The switch's observer, backed by Prometheus metrics.
 *
 * The gauges of connections and signed-on sessions are kept from the calls: every connectionOpened needs its
 * connectionClosed, and a signed-on session that closes needs signOnChanged(partner, false).
 */
export interface SwitchMetrics extends SwitchObserver {
  readonly registry: Registry;
  /** Recent TPS and latency percentiles, for `jht-switch status`. */
  readonly recent: RecentStats;
  /** Gives the scrape-time gauges their source; binding again replaces it. */
  bind(sources: MetricSources): void;
}

type Children<T> = Map<string, T>;

/** Nested maps rather than a joined key: the hot path finds a known series without building a string. */
function childOf<T>(map: Children<Children<T>>, key: string): Children<T> {
  let child = map.get(key);
  if (!child) map.set(key, (child = new Map()));
  return child;
}

class PrometheusSwitchMetrics implements SwitchMetrics {
  readonly registry: Registry;
  readonly recent: RecentStats;
  private readonly prefix: string;
  private readonly transactions: Counter<'partner' | 'mti' | 'response_code'>;
  private readonly latency: Histogram<'partner'>;
  private readonly inFlight: Gauge;
  private readonly connections: Gauge<'partner'>;
  private readonly signedOn: Gauge<'partner'>;
  private readonly refusals: Counter<'partner' | 'reason'>;
  private readonly transactionChildren: Children<Children<Children<Counter.Internal>>> = new Map();
  private readonly latencyChildren: Children<Histogram.Internal<'partner'>> = new Map();
  private readonly connectionChildren: Children<Gauge.Internal<'partner'>> = new Map();
  private readonly signedOnChildren: Children<Gauge.Internal<'partner'>> = new Map();
  private sources: MetricSources | undefined;

  constructor(options: SwitchMetricsOptions) {
    const registry = (this.registry = options.registry ?? new Registry());
    const prefix = (this.prefix = options.prefix ?? DEFAULT_METRICS_PREFIX);
    const registers = [registry];
    this.recent = new RecentStats(options.recentWindowSeconds === undefined ? {} : { windowSeconds: options.recentWindowSeconds });
    this.transactions = new Counter({
      name: `${prefix}transactions_total`,
      help: 'Requests answered, by partner, request MTI and response code (field 39)',
      labelNames: ['partner', 'mti', 'response_code'] as const,
      registers,
    });
    this.latency = new Histogram({
      name: `${prefix}transaction_latency_seconds`,
      help: 'Time the switch took to answer a request, by partner',
      labelNames: ['partner'] as const,
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers,
    });
    this.inFlight = new Gauge({ name: `${prefix}in_flight`, help: 'Requests being processed', registers });
    this.connections = new Gauge({
      name: `${prefix}connections`,
      help: 'Open partner connections, inbound and dial-out',
      labelNames: ['partner'] as const,
      registers,
    });
    this.signedOn = new Gauge({
      name: `${prefix}signed_on_sessions`,
      help: 'Partner connections currently signed on (0800 with 70 = 001)',
      labelNames: ['partner'] as const,
      registers,
    });
    this.refusals = new Counter({
      name: `${prefix}refused_total`,
      help: 'Connections refused before any message, and requests refused for a limit, by reason',
      labelNames: ['partner', 'reason'] as const,
      registers,
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix });
  }

  transaction(partnerId: string, mti: string, responseCode: string, latencySeconds: number): void {
    const byCode = childOf(childOf(this.transactionChildren, partnerId), mti);
    let counter = byCode.get(responseCode);
    if (!counter) {
      const mtiLabel = KNOWN_MTIS.has(mti) ? mti : OTHER_MTI_LABEL;
      const codeLabel = RESPONSE_CODE_LABEL.test(responseCode) ? responseCode : INVALID_LABEL;
      counter = this.transactions.labels(partnerId, mtiLabel, codeLabel);
      // An unknown value is counted, under 'other' or 'invalid', but never remembered: it could be different every time.
      if (mtiLabel === mti && codeLabel === responseCode) byCode.set(responseCode, counter);
    }
    counter.inc();
    let histogram = this.latencyChildren.get(partnerId);
    if (!histogram) this.latencyChildren.set(partnerId, (histogram = this.latency.labels(partnerId)));
    histogram.observe(latencySeconds);
    this.recent.record(latencySeconds);
  }

  inFlightChanged(delta: 1 | -1): void {
    this.inFlight.inc(delta);
  }

  connectionOpened(partnerId: string): void {
    this.partnerGauge(this.connections, this.connectionChildren, partnerId).inc();
  }

  connectionClosed(partnerId: string): void {
    this.partnerGauge(this.connections, this.connectionChildren, partnerId).dec();
  }

  signOnChanged(partnerId: string, signedOn: boolean): void {
    const gauge = this.partnerGauge(this.signedOn, this.signedOnChildren, partnerId);
    if (signedOn) gauge.inc();
    else gauge.dec();
  }

  refused(partnerId: string | undefined, reason: string): void {
    // Reasons come from the switch's code, never from the wire, so they are a bounded set.
    this.refusals.inc({ partner: partnerId ?? UNKNOWN_PARTNER, reason });
  }

  bind(sources: MetricSources): void {
    const first = this.sources === undefined;
    this.sources = sources;
    if (!first) return;
    // Registered at the first bind, not before: a breaker gauge reading 0 ("closed") before the switch
    // runs would be a lie.
    const read = (): MetricSources => this.sources!;
    new Gauge({
      name: `${this.prefix}ledger_breaker_state`,
      help: 'Ledger circuit breaker: 0 closed, 1 half-open, 2 open (lookups answered 91 without trying)',
      registers: [this.registry],
      collect() {
        this.set(BREAKER_STATE_VALUE[read().breakerState()]);
      },
    });
    new Gauge({
      name: `${this.prefix}journal_queue_depth`,
      help: 'Journal entries waiting to be written to the database',
      registers: [this.registry],
      collect() {
        this.set(read().journalQueueDepth());
      },
    });
  }

  private partnerGauge(gauge: Gauge<'partner'>, children: Children<Gauge.Internal<'partner'>>, partnerId: string): Gauge.Internal<'partner'> {
    let child = children.get(partnerId);
    if (!child) children.set(partnerId, (child = gauge.labels(partnerId)));
    return child;
  }
}

export function createSwitchMetrics(options: SwitchMetricsOptions = {}): SwitchMetrics {
  return new PrometheusSwitchMetrics(options);
}
