import { LatencyHistogram } from './histogram.js';

/**
 * Why an inquiry did not get a correct answer. Each failed inquiry counts once; an answer that matches
 * no request in flight (unknown STAN, a second answer) counts once too.
 */
export type ErrorKind =
  /** No answer within the timeout (or before the run's drain deadline). */
  | 'timeout'
  /** The connection closed with the request in flight. */
  | 'connection-lost'
  /** An answer whose STAN (11) is not that of any request in flight on its connection. */
  | 'unmatched'
  /** The answer's MTI is not the request's response MTI (0200 -> 0210). */
  | 'wrong-mti'
  /** Field 41 does not echo the request's terminal. */
  | 'wrong-terminal'
  /** Field 39 missing. */
  | 'no-response-code'
  /** A 00 without fields 48 and 54 (CONTRACT: an approved inquiry carries both). */
  | 'missing-balance'
  /** A demo card answered otherwise than the contract's demo data says. */
  | 'unexpected-answer'
  /** The answer does not decode under the profile. */
  | 'undecodable';

/** Counters of one phase of a run (warm-up, or the measured window). */
export class PhaseStats {
  sent = 0;
  answered = 0;
  errors = 0;
  readonly errorsByKind = new Map<ErrorKind, number>();
  readonly responseCodes = new Map<string, number>();
  readonly latency = new LatencyHistogram();

  recordAnswer(responseCode: string, latencyUs: number): void {
    this.answered++;
    this.responseCodes.set(responseCode, (this.responseCodes.get(responseCode) ?? 0) + 1);
    this.latency.record(latencyUs);
  }

  recordError(kind: ErrorKind): void {
    this.errors++;
    this.errorsByKind.set(kind, (this.errorsByKind.get(kind) ?? 0) + 1);
  }

  get timeouts(): number {
    return this.errorsByKind.get('timeout') ?? 0;
  }
}

/**
 * Which phase a request belongs to, decided by the time it was scheduled: requests scheduled before
 * `measureFromMs` are warm-up, whenever their answer comes.
 */
export class RunStats {
  readonly warmup = new PhaseStats();
  readonly measured = new PhaseStats();
  /** Answers that came after their request had been counted as timed out (already an error). */
  lateAnswers = 0;
  /**
   * How late the generator staged each measured request after its scheduled time (rate mode): the
   * generator's own share of the latency (timer granularity, its CPU), shown beside the latency.
   */
  readonly sendLag = new LatencyHistogram();

  constructor(public measureFromMs: number) {}

  phaseAt(scheduledMs: number): PhaseStats {
    return scheduledMs < this.measureFromMs ? this.warmup : this.measured;
  }

  recordSendLag(scheduledMs: number, nowMs: number): void {
    if (scheduledMs >= this.measureFromMs) this.sendLag.record((nowMs - scheduledMs) * 1000);
  }

  get sent(): number {
    return this.warmup.sent + this.measured.sent;
  }

  get answered(): number {
    return this.warmup.answered + this.measured.answered;
  }

  get errors(): number {
    return this.warmup.errors + this.measured.errors;
  }
}
