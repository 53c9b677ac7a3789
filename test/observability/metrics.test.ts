import { expect } from 'chai';
import type { BreakerState } from '../../src/ledger/index.js';
import { startOpsHttpServer, type OpsHttpServer } from '../../src/observability/http-server.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createSwitchMetrics, type SwitchMetrics } from '../../src/observability/metrics.js';
import { RecentStats } from '../../src/observability/recent-stats.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, enough of it for these tests: `name{a="b",...} value`. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`. */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

describe('observability: metrics scraped over real HTTP', function () {
  let metrics: SwitchMetrics;
  let http: OpsHttpServer;
  const scrape = async (): Promise<{ samples: Sample[]; contentType: string | null }> => {
    const response = await fetch(`http://127.0.0.1:${http.port}/metrics`);
    expect(response.status).to.equal(200);
    return { samples: parseExposition(await response.text()), contentType: response.headers.get('content-type') };
  };

  beforeEach(async () => {
    metrics = createSwitchMetrics();
    http = await startOpsHttpServer({
      port: 0, registry: metrics.registry, log: silentLogger(),
      readiness: async () => ({ ready: true, checks: {} }),
    });
  });
  afterEach(async () => http.close());

  it('counts transactions by partner, MTI and response code, with a latency histogram per partner', async () => {
    for (let i = 0; i < 3; i++) metrics.transaction('demo', '0200', '00', 0.0012);
    metrics.transaction('demo', '0200', '14', 0.004);
    metrics.transaction('bank-b', '0420', '00', 0.3);
    const { samples, contentType } = await scrape();
    expect(contentType).to.match(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(samples, 'jht_transactions_total', { partner: 'demo', mti: '0200', response_code: '00' })).to.equal(3);
    expect(valueOf(samples, 'jht_transactions_total', { partner: 'demo', mti: '0200', response_code: '14' })).to.equal(1);
    expect(valueOf(samples, 'jht_transactions_total', { partner: 'bank-b', mti: '0420', response_code: '00' })).to.equal(1);
    const bucket = (partner: string, le: string): number | undefined =>
      valueOf(samples, 'jht_transaction_latency_seconds_bucket', { partner, le });
    expect(bucket('demo', '0.001')).to.equal(0);
    expect(bucket('demo', '0.002')).to.equal(3);
    expect(bucket('demo', '0.005')).to.equal(4);
    expect(bucket('demo', '+Inf')).to.equal(4);
    expect(bucket('bank-b', '0.25')).to.equal(0);
    expect(bucket('bank-b', '0.5')).to.equal(1);
    expect(valueOf(samples, 'jht_transaction_latency_seconds_count', { partner: 'demo' })).to.equal(4);
    expect(valueOf(samples, 'jht_transaction_latency_seconds_sum', { partner: 'demo' })).to.be.closeTo(0.0076, 1e-9);
    // Buckets fit a switch answering in 0.2-50 ms: sub-millisecond resolution, and 1 s as the last finite one.
    const bounds = samples.filter((s) => s.name === 'jht_transaction_latency_seconds_bucket' && s.labels.partner === 'demo').map((s) => s.labels.le);
    expect(bounds[0]).to.equal('0.0005');
    expect(bounds.slice(-2)).to.deep.equal(['1', '+Inf']);
  });

  it('keeps malformed MTIs and response codes out of the label values', async () => {
    metrics.transaction('demo', '02\u00000', '00', 0.001);
    metrics.transaction('demo', 'junk', 'x"y', 0.001);
    const { samples } = await scrape();
    expect(valueOf(samples, 'jht_transactions_total', { partner: 'demo', mti: 'other', response_code: '00' })).to.equal(1);
    expect(valueOf(samples, 'jht_transactions_total', { partner: 'demo', mti: 'other', response_code: 'invalid' })).to.equal(1);
  });

  it('puts every MTI the switch does not know under one label value, other', async () => {
    for (let n = 0; n < 1_000; n++) metrics.transaction('demo', String(3_000 + n).padStart(4, '0'), '12', 0.001);
    metrics.transaction('demo', '0200', '00', 0.001);
    const { samples } = await scrape();
    const mtis = new Set(samples.filter((s) => s.name === 'jht_transactions_total').map((s) => s.labels.mti));
    expect([...mtis].sort()).to.deep.equal(['0200', 'other']);
    expect(valueOf(samples, 'jht_transactions_total', { partner: 'demo', mti: 'other', response_code: '12' })).to.equal(1_000);
  });

  it('tracks in-flight requests, connections, signed-on sessions and refusals from the observer calls', async () => {
    metrics.inFlightChanged(1);
    metrics.inFlightChanged(1);
    metrics.inFlightChanged(-1);
    metrics.connectionOpened('demo');
    metrics.connectionOpened('demo');
    metrics.connectionOpened('bank-b');
    metrics.connectionClosed('demo');
    metrics.signOnChanged('demo', true);
    metrics.signOnChanged('demo', true);
    metrics.signOnChanged('demo', false);
    metrics.refused(undefined, 'allow-list');
    metrics.refused('demo', 'max-in-flight');
    metrics.refused('demo', 'max-in-flight');
    const { samples } = await scrape();
    expect(valueOf(samples, 'jht_in_flight')).to.equal(1);
    expect(valueOf(samples, 'jht_connections', { partner: 'demo' })).to.equal(1);
    expect(valueOf(samples, 'jht_connections', { partner: 'bank-b' })).to.equal(1);
    expect(valueOf(samples, 'jht_signed_on_sessions', { partner: 'demo' })).to.equal(1);
    expect(valueOf(samples, 'jht_refused_total', { partner: 'unknown', reason: 'allow-list' })).to.equal(1);
    expect(valueOf(samples, 'jht_refused_total', { partner: 'demo', reason: 'max-in-flight' })).to.equal(2);
  });

  it('reads the breaker state and the journal queue depth at scrape time, once bound', async () => {
    const before = await scrape();
    expect(valueOf(before.samples, 'jht_ledger_breaker_state'), 'no breaker gauge before bind').to.equal(undefined);
    let breaker: BreakerState = 'closed';
    let depth = 7;
    metrics.bind({ breakerState: () => breaker, journalQueueDepth: () => depth });
    let { samples } = await scrape();
    expect(valueOf(samples, 'jht_ledger_breaker_state')).to.equal(0);
    expect(valueOf(samples, 'jht_journal_queue_depth')).to.equal(7);
    breaker = 'open';
    depth = 0;
    ({ samples } = await scrape());
    expect(valueOf(samples, 'jht_ledger_breaker_state')).to.equal(2);
    expect(valueOf(samples, 'jht_journal_queue_depth')).to.equal(0);
    // Binding again (a restarted ledger) replaces the sources without registering twice.
    metrics.bind({ breakerState: () => 'half-open', journalQueueDepth: () => 3 });
    ({ samples } = await scrape());
    expect(valueOf(samples, 'jht_ledger_breaker_state')).to.equal(1);
    expect(valueOf(samples, 'jht_journal_queue_depth')).to.equal(3);
  });

  it('exports the Node process metrics on the same registry, prefixed', async () => {
    const { samples } = await scrape();
    const names = new Set(samples.map((s) => s.name));
    for (const name of ['jht_process_cpu_user_seconds_total', 'jht_process_resident_memory_bytes', 'jht_nodejs_eventloop_lag_seconds', 'jht_nodejs_heap_size_used_bytes']) {
      expect(names, name).to.include(name);
    }
    expect([...names].filter((name) => !name.startsWith('jht_'))).to.deep.equal([]);
  });

  it('feeds the recent figures from the transactions', () => {
    metrics.transaction('demo', '0200', '00', 0.002);
    metrics.transaction('demo', '0200', '00', 0.004);
    const recent = metrics.recent.snapshot();
    expect(recent.count).to.equal(2);
    expect(recent.maxMs).to.be.closeTo(4, 1e-9);
  });
});

describe('observability: RecentStats', () => {
  it('gives TPS and latency p50/p99/max over the window, within a bin (~5 %)', () => {
    let now = 50_000;
    const stats = new RecentStats({ windowSeconds: 10, now: () => now });
    now += 10_000; // a full window after start
    for (let i = 0; i < 990; i++) {
      stats.record(0.001 + (i % 10) * 0.0001); // 1.0-1.9 ms
      if (i % 100 === 99) now += 1_000;
    }
    for (let i = 0; i < 10; i++) stats.record(0.05); // the slowest 1 %
    now += 999; // the end of the tenth second: the window spans from the start of the oldest one
    const snapshot = stats.snapshot();
    expect(snapshot.count).to.equal(1000);
    expect(snapshot.windowSeconds).to.be.closeTo(9.999, 1e-9);
    expect(snapshot.tps).to.be.closeTo(100, 0.1);
    expect(snapshot.p50Ms).to.be.within(1.4 * 0.95, 1.5 * 1.05);
    expect(snapshot.p99Ms).to.be.within(1.9 * 0.95, 1.9 * 1.05);
    expect(snapshot.maxMs).to.equal(50);
  });

  it('forgets what left the window, and counts a young window for what it is', () => {
    let now = 1_000_000;
    const stats = new RecentStats({ windowSeconds: 10, now: () => now });
    now += 500;
    for (let i = 0; i < 50; i++) stats.record(0.003);
    const young = stats.snapshot();
    expect(young.windowSeconds).to.be.closeTo(0.5, 1e-9);
    expect(young.tps).to.be.closeTo(100, 1e-6);
    now += 10_000;
    expect(stats.snapshot()).to.include({ count: 0, tps: 0, p50Ms: null, p99Ms: null, maxMs: null });
    stats.record(0.01);
    expect(stats.snapshot()).to.include({ count: 1 });
    expect(stats.snapshot().maxMs).to.be.closeTo(10, 1e-9);
  });

  it('ignores NaN and negative latencies instead of corrupting the figures', () => {
    const stats = new RecentStats();
    stats.record(Number.NaN);
    stats.record(-1);
    stats.record(0.002);
    expect(stats.snapshot().count).to.equal(1);
  });
});
