/**
 * A latency histogram in the manner of HdrHistogram: integer microseconds, exact below 2,048 µs and
 * log-bucketed above with 1,024 sub-buckets per power of two, so any recorded value is known to within
 * 0.1 %. Recording is two integer operations and an array increment: cheap enough for every answer.
 */

/** Values below this are counted exactly, one bucket per microsecond. */
const EXACT_BELOW = 2048;
const SUB_BUCKETS = 1024;
const SUB_BITS = 10;
/** Up to 2^31 µs (about 36 minutes); longer values are clamped to it. */
const MAX_VALUE = 2 ** 31 - 1;
const BUCKETS = EXACT_BELOW + (31 - SUB_BITS - 1) * SUB_BUCKETS;

function indexOf(us: number): number {
  if (us < EXACT_BELOW) return us;
  const shift = 31 - Math.clz32(us) - SUB_BITS;
  return EXACT_BELOW + (shift - 1) * SUB_BUCKETS + ((us >>> shift) - SUB_BUCKETS);
}

/** The largest value that lands in bucket `index`: percentiles are reported as that upper bound. */
function highestOf(index: number): number {
  if (index < EXACT_BELOW) return index;
  const above = index - EXACT_BELOW;
  const shift = Math.floor(above / SUB_BUCKETS) + 1;
  const sub = (above % SUB_BUCKETS) + SUB_BUCKETS;
  return ((sub + 1) << shift) - 1;
}

export interface LatencySummary {
  count: number;
  p50Us: number;
  p95Us: number;
  p99Us: number;
  maxUs: number;
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;
  private max = 0;

  /** Records one latency in microseconds (fractions are rounded; negatives count as 0). */
  record(us: number): void {
    const v = us <= 0 ? 0 : us >= MAX_VALUE ? MAX_VALUE : Math.round(us);
    this.counts[indexOf(v)]!++;
    this.total++;
    if (v > this.max) this.max = v;
  }

  get count(): number {
    return this.total;
  }

  /** The value at or below which `fraction` (0..1) of the recorded values lie; 0 when empty. */
  valueAt(fraction: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(highestOf(i), this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return { count: this.total, p50Us: this.valueAt(0.5), p95Us: this.valueAt(0.95), p99Us: this.valueAt(0.99), maxUs: this.max };
  }
}
