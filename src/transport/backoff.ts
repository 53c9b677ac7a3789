export interface BackoffOptions {
  /** Ceiling of the first retry's delay. Default 500 ms. */
  readonly baseMs?: number;
  /** The ceiling never grows past this. Default 30 s. */
  readonly maxMs?: number;
}

export const BACKOFF_DEFAULTS = { baseMs: 500, maxMs: 30_000 } as const;

/**
 * Exponential backoff with full jitter: a delay drawn uniformly from [0, min(max, base × 2^attempt)).
 * The jitter spreads the reconnects of many links that dropped together (a bank host restart) instead
 * of having them all knock at the same instants.
 */
export function fullJitterDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? BACKOFF_DEFAULTS.baseMs;
  const max = options.maxMs ?? BACKOFF_DEFAULTS.maxMs;
  // 2^31 × any sane base already exceeds any sane max; the clamp keeps the power finite.
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 31));
  return Math.floor(random() * ceiling);
}
