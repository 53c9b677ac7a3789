/**
 * Token buckets by key (a client id, a KPJ), in this process's memory. Across N instances behind a load
 * balancer each instance counts alone, so the effective limit is up to N times the configured one: set the
 * per-instance rate to the total divided by N (README, "REST API").
 */

export type Admission = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

const ALLOWED: Admission = Object.freeze({ allowed: true });

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  /**
   * `ratePerSecond` tokens a second, up to `burst` at once. At most `maxKeys` buckets are kept; the least
   * recently used go first (a forgotten bucket is a full one: forgetting only ever errs toward allowing).
   */
  constructor(ratePerSecond: number, private readonly burst: number, private readonly maxKeys = 100_000) {
    this.perMs = ratePerSecond / 1000;
  }

  take(key: string, now: number = performance.now()): Admission {
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-inserted below: Map order is recency order
      bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
      bucket.at = now;
    } else {
      bucket = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return ALLOWED;
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000)) };
  }
}
