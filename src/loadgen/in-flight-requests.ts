import { STAN_MODULUS } from './inquiry-template.js';
import type { RunStats } from './stats.js';

/** Most ring slots one connection has (a power of two). */
export const MAX_RING_SIZE = 1 << 16;

// Slot states.
const NONE = 0; // not an inquiry (the sign-on), or never used
const PENDING = 1;
const ANSWERED = 2;
const TIMED_OUT = 3;
const LOST = 4;

/** What `take` found for an answer's STAN. */
export const Taken = {
  /** A request in flight: its `scheduledAt` and `identity` are in the tracker's `taken*` fields. */
  Request: 0,
  /** A request already counted as a timeout: not an error twice. */
  Late: 1,
  /** No request of ours in flight with that STAN (unknown, or answered already). */
  Unknown: 2,
} as const;
export type Taken = (typeof Taken)[keyof typeof Taken];

/** A request pushed out of the ring by newer ones while still in flight (or recently timed out). */
interface Outlier {
  readonly scheduledAt: number;
  readonly identity: number;
  timedOut: boolean;
}

function ringSizeFor(wanted: number): number {
  let size = 16;
  while (size < wanted && size < MAX_RING_SIZE) size *= 2;
  return size;
}

/**
 * The requests one connection has in flight, by STAN. Request n of the connection gets STAN
 * (base + n) mod 999,999 + 1, so an answer's STAN leads straight to slot n of a ring of typed arrays:
 * no Map, no object per request. A request still awaited when the ring has come round to its slot
 * (a slow answer among fast ones) moves to a Map of outliers: exact, only slower.
 */
export class InFlightRequests {
  /** Set by `take` when it returns Taken.Request (no object allocated per answer). */
  takenScheduledAt = 0;
  takenIdentity = 0;

  private readonly size: number;
  private readonly mask: number;
  private readonly scheduledAt: Float64Array;
  private readonly identityOf: Uint16Array;
  private readonly state: Uint8Array;
  private readonly outliers = new Map<number, Outlier>();
  private readonly stanBase = Math.floor(Math.random() * STAN_MODULUS);
  private nextSeq = 0;
  /** Oldest sequence number that may still be in flight: where the timeout sweep starts. */
  private oldestSeq = 0;
  private pending = 0;

  constructor(ringSize: number, private readonly stats: RunStats, private readonly timeoutMs: number) {
    this.size = ringSizeFor(ringSize);
    this.mask = this.size - 1;
    this.scheduledAt = new Float64Array(this.size);
    this.identityOf = new Uint16Array(this.size);
    this.state = new Uint8Array(this.size);
  }

  get count(): number {
    return this.pending;
  }

  /** A STAN for a message that is not tracked (the sign-on): never reused by an inquiry. */
  untracked(): number {
    return this.stanOf(this.nextSeq++);
  }

  /** Tracks a new inquiry and returns its STAN. */
  begin(scheduledMs: number, identity: number): number {
    const seq = this.nextSeq++;
    const slot = seq & this.mask;
    const previous = this.state[slot]!;
    if (previous === PENDING || previous === TIMED_OUT) {
      this.outliers.set(this.stanOf(seq - this.size), {
        scheduledAt: this.scheduledAt[slot]!, identity: this.identityOf[slot]!, timedOut: previous === TIMED_OUT,
      });
    }
    this.scheduledAt[slot] = scheduledMs;
    this.identityOf[slot] = identity;
    this.state[slot] = PENDING;
    this.pending++;
    this.stats.phaseAt(scheduledMs).sent++;
    return this.stanOf(seq);
  }

  /** Settles the request an answer with this STAN (NaN if it had none) answers. */
  take(stan: number): Taken {
    const slot = this.slotOf(stan);
    const state = slot < 0 ? NONE : this.state[slot]!;
    if (state === PENDING) {
      this.state[slot] = ANSWERED;
      this.pending--;
      this.takenScheduledAt = this.scheduledAt[slot]!;
      this.takenIdentity = this.identityOf[slot]!;
      return Taken.Request;
    }
    if (state === TIMED_OUT) {
      this.state[slot] = ANSWERED; // a second copy of the answer would be Unknown
      return Taken.Late;
    }
    const outlier = slot < 0 ? this.outliers.get(stan) : undefined;
    if (outlier === undefined) return Taken.Unknown;
    this.outliers.delete(stan);
    if (outlier.timedOut) return Taken.Late;
    this.pending--;
    this.takenScheduledAt = outlier.scheduledAt;
    this.takenIdentity = outlier.identity;
    return Taken.Request;
  }

  /** Counts requests older than the timeout as timed out. */
  sweep(nowMs: number): void {
    const limit = nowMs - this.timeoutMs;
    if (this.outliers.size > 0) this.sweepOutliers(limit);
    // Anything older than the ring has moved to the outliers.
    this.oldestSeq = Math.max(this.oldestSeq, this.nextSeq - this.size);
    while (this.oldestSeq < this.nextSeq) {
      const slot = this.oldestSeq & this.mask;
      if (this.state[slot] === PENDING) {
        if (this.scheduledAt[slot]! > limit) return;
        this.stats.phaseAt(this.scheduledAt[slot]!).recordError('timeout');
        this.state[slot] = TIMED_OUT;
        this.pending--;
      }
      this.oldestSeq++;
    }
  }

  /** The connection closed: whatever is in flight is lost. */
  loseAll(): void {
    for (const outlier of this.outliers.values()) {
      if (!outlier.timedOut) this.stats.phaseAt(outlier.scheduledAt).recordError('connection-lost');
    }
    this.outliers.clear();
    for (let seq = Math.max(this.oldestSeq, this.nextSeq - this.size); seq < this.nextSeq; seq++) {
      const slot = seq & this.mask;
      if (this.state[slot] !== PENDING) continue;
      this.stats.phaseAt(this.scheduledAt[slot]!).recordError('connection-lost');
      this.state[slot] = LOST;
    }
    this.pending = 0;
    this.oldestSeq = this.nextSeq;
  }

  private sweepOutliers(limit: number): void {
    for (const [stan, outlier] of this.outliers) {
      if (outlier.scheduledAt > limit) continue;
      if (!outlier.timedOut) {
        this.stats.phaseAt(outlier.scheduledAt).recordError('timeout');
        outlier.timedOut = true;
        this.pending--;
      } else if (outlier.scheduledAt <= limit - this.timeoutMs) {
        this.outliers.delete(stan); // an answer after twice the timeout counts as unknown
      }
    }
  }

  private stanOf(seq: number): number {
    return ((this.stanBase + seq) % STAN_MODULUS) + 1;
  }

  /** The ring slot of the recent request with this STAN, or -1 (an outlier, or no request of ours). */
  private slotOf(stan: number): number {
    const lastSeq = this.nextSeq - 1;
    if (!(stan >= 1 && stan <= STAN_MODULUS) || lastSeq < 0) return -1;
    const lastIndex = (this.stanBase + lastSeq) % STAN_MODULUS;
    const back = (lastIndex - (stan - 1) + STAN_MODULUS) % STAN_MODULUS;
    if (back >= this.size || back > lastSeq) return -1;
    return (lastSeq - back) & this.mask;
  }
}
