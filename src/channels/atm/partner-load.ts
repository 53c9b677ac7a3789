/**
 * A partner's share of the switch: requests in flight across all its connections, and a token bucket
 * for its requests per second. Over either limit a request is answered 97 at once and never queued.
 */
export class PartnerLoad {
  inFlight = 0;
  private tokens: number;
  private refilledAt = performance.now();

  constructor(
    readonly maxInFlight: number,
    readonly requestsPerSecond: number,
  ) {
    this.tokens = requestsPerSecond;
  }

  /** Takes one token; false when the partner is over its rate. The bucket holds one second's worth. */
  takeToken(now = performance.now()): boolean {
    const rate = this.requestsPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether one more request may be processed beside those already in flight (this one counted). */
  get overInFlight(): boolean {
    return this.inFlight > this.maxInFlight;
  }
}
