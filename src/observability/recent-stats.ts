/**
 * Transactions per second and latency percentiles over the last few seconds, for `jht-switch status`.
 *
 * Prometheus answers "how was it over the last hour"; an operator at the console asks "how is it now",
 * without a Prometheus server at hand. A ring of one-second slots, each counting latencies in log-spaced
 * bins: recording is a few typed-array writes (no allocation, whatever the traffic), and a percentile is
 * exact to within one bin (about ±2.5 %).
 */

/** Bin 0 holds everything up to 10 µs; each next bin is 5 % wider; the last one holds everything above ~60 s. */
const BIN_FLOOR_SECONDS = 1e-5;
const BIN_GROWTH = 1.05;
const LOG_GROWTH = Math.log(BIN_GROWTH);
const BIN_COUNT = Math.ceil(Math.log(60 / BIN_FLOOR_SECONDS) / LOG_GROWTH) + 1;

export const DEFAULT_RECENT_WINDOW_SECONDS = 10;

export interface RecentSnapshot {
  /** The span the figures cover: the window, or less in the first seconds after start. */
  readonly windowSeconds: number;
  readonly count: number;
  readonly tps: number;
  /** Null when nothing was recorded in the window. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

export interface RecentStatsOptions {
  windowSeconds?: number;
  /** Milliseconds on a monotonic clock; tests drive it by hand. */
  now?: () => number;
}

function binOf(seconds: number): number {
  if (seconds <= BIN_FLOOR_SECONDS) return 0;
  const bin = Math.ceil(Math.log(seconds / BIN_FLOOR_SECONDS) / LOG_GROWTH);
  return bin < BIN_COUNT ? bin : BIN_COUNT - 1;
}

/** The geometric middle of a bin: the value a percentile falling in it is reported as. */
function binMiddleSeconds(bin: number): number {
  return bin === 0 ? BIN_FLOOR_SECONDS : BIN_FLOOR_SECONDS * BIN_GROWTH ** (bin - 0.5);
}

export class RecentStats {
  readonly windowSeconds: number;
  private readonly now: () => number;
  private readonly startedAtMs: number;
  /** Which second each slot holds; a slot whose second has left the window is stale. */
  private readonly slotSecond: Float64Array;
  private readonly slotCount: Uint32Array;
  private readonly slotMax: Float64Array;
  private readonly bins: Uint32Array;
  /** Reused by snapshot(): the merged bins of the window. */
  private readonly merged: Uint32Array;

  constructor(options: RecentStatsOptions = {}) {
    this.windowSeconds = options.windowSeconds ?? DEFAULT_RECENT_WINDOW_SECONDS;
    if (!Number.isInteger(this.windowSeconds) || this.windowSeconds < 1) throw new RangeError('windowSeconds must be a whole number of at least 1');
    this.now = options.now ?? (() => performance.now());
    this.startedAtMs = this.now();
    this.slotSecond = new Float64Array(this.windowSeconds).fill(-1);
    this.slotCount = new Uint32Array(this.windowSeconds);
    this.slotMax = new Float64Array(this.windowSeconds);
    this.bins = new Uint32Array(this.windowSeconds * BIN_COUNT);
    this.merged = new Uint32Array(BIN_COUNT);
  }

  record(latencySeconds: number): void {
    if (!(latencySeconds >= 0)) return; // NaN or negative: a caller's bug must not poison the figures
    const second = Math.floor(this.now() / 1000);
    const slot = second % this.windowSeconds;
    if (this.slotSecond[slot] !== second) {
      this.slotSecond[slot] = second;
      this.slotCount[slot] = 0;
      this.slotMax[slot] = 0;
      this.bins.fill(0, slot * BIN_COUNT, (slot + 1) * BIN_COUNT);
    }
    this.slotCount[slot]! += 1;
    this.bins[slot * BIN_COUNT + binOf(latencySeconds)]! += 1;
    if (latencySeconds > this.slotMax[slot]!) this.slotMax[slot] = latencySeconds;
  }

  snapshot(): RecentSnapshot {
    const nowMs = this.now();
    const second = Math.floor(nowMs / 1000);
    const oldest = second - this.windowSeconds + 1;
    const merged = this.merged.fill(0);
    let count = 0;
    let max = 0;
    for (let slot = 0; slot < this.windowSeconds; slot++) {
      const slotSecond = this.slotSecond[slot]!;
      if (slotSecond < oldest || slotSecond > second) continue;
      count += this.slotCount[slot]!;
      if (this.slotMax[slot]! > max) max = this.slotMax[slot]!;
      const base = slot * BIN_COUNT;
      for (let bin = 0; bin < BIN_COUNT; bin++) merged[bin]! += this.bins[base + bin]!;
    }
    // The current second is only partly over; and right after start the window is not full yet.
    const spanMs = Math.min((this.windowSeconds - 1) * 1000 + (nowMs - second * 1000), nowMs - this.startedAtMs);
    const windowSeconds = Math.max(spanMs, 1) / 1000;
    if (count === 0) return { windowSeconds, count, tps: 0, p50Ms: null, p99Ms: null, maxMs: null };
    return {
      windowSeconds,
      count,
      tps: count / windowSeconds,
      p50Ms: Math.min(this.percentileSeconds(0.5, count), max) * 1000,
      p99Ms: Math.min(this.percentileSeconds(0.99, count), max) * 1000,
      maxMs: max * 1000,
    };
  }

  private percentileSeconds(quantile: number, count: number): number {
    const rank = Math.max(1, Math.ceil(quantile * count));
    let seen = 0;
    for (let bin = 0; bin < BIN_COUNT; bin++) {
      seen += this.merged[bin]!;
      if (seen >= rank) return binMiddleSeconds(bin);
    }
    return binMiddleSeconds(BIN_COUNT - 1);
  }
}
