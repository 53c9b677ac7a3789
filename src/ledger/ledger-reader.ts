import CircuitBreaker from 'opossum';
import type { Logger } from '../observability/logger.js';
import type { KeyRing } from '../security/keys/index.js';
import { accountNumber } from './instrument-hash.js';
import { LedgerUnavailableError } from './errors.js';
import type { InstrumentRef } from './lookup-query.js';

export type { InstrumentRef, ParticipantLookup } from './lookup-query.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface LedgerReaderOptions {
  /** Cards and accounts are hashed under each lookup key: the current one, and the previous one during a rotation window. */
  keys: KeyRing;
  log: Logger;
  /** How long the breaker stays open before letting one trial round trip through. Default 2000 ms. */
  resetTimeoutMs?: number;
  /** Failure percentage over the rolling window that opens the breaker. Default 50. */
  errorThresholdPercentage?: number;
  /** Round trips the rolling window must hold before the breaker may open. Default 5. */
  volumeThreshold?: number;
  /** Length of the breaker's rolling statistics window. Default 10000 ms. */
  rollingWindowMs?: number;
}

/** A round trip to the ledger's database, run through the breaker. */
type DatabaseWork = () => Promise<unknown>;

/**
 * The ledger's keys and its circuit breaker: how a card or account is named to the ledger (an HMAC, never
 * the number), and the opossum breaker that guards every round trip an inquiry makes to the ledger's
 * database.
 *
 * The read itself rides in the ATM's duplicate-detection claim (src/journal/claim-batcher.ts) and in the
 * channel-neutral core's reads (src/inquiry/participant-reader.ts); both run through {@link guard}, and each
 * keeps its own time budget from the moment the inquiry asks (a missed budget still counts as a failure).
 * While the breaker is open a round trip is refused at once, without touching the pool; after
 * `resetTimeoutMs` it lets one through (half-open) and closes again if it succeeds.
 */
export class LedgerReader {
  private readonly breaker: CircuitBreaker<[DatabaseWork], unknown>;
  private readonly keys: KeyRing;
  private readonly log: Logger;
  private closed = false;
  private lastState: BreakerState = 'closed';

  constructor(options: LedgerReaderOptions) {
    this.keys = options.keys;
    this.log = options.log;
    this.breaker = new CircuitBreaker<[DatabaseWork], unknown>(
      (work) => work(),
      {
        name: 'ledger',
        timeout: false, // see the class comment: the budget belongs to each inquiry
        resetTimeout: options.resetTimeoutMs ?? 2000,
        errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
        volumeThreshold: options.volumeThreshold ?? 5,
        rollingCountTimeout: options.rollingWindowMs ?? 10_000,
        // Neither is used, and both cost on the hot path (a sort per failure, a timer per bucket).
        rollingPercentilesEnabled: false,
        enableSnapshots: false,
      },
    );
    this.breaker.on('open', () => this.changeState('open'));
    this.breaker.on('halfOpen', () => this.changeState('half-open'));
    this.breaker.on('close', () => this.changeState('closed'));
  }

  /** A card (field 2) as the ledger keys it: never the PAN itself. */
  card(pan: string): InstrumentRef {
    return { kind: 'CARD', hashes: this.hashes(pan) };
  }

  /** An account (field 102) as the ledger keys it: padding spaces removed, leading zeros kept (accountNumber). */
  account(account: string): InstrumentRef {
    return { kind: 'ACCOUNT', hashes: this.hashes(accountNumber(account)) };
  }

  /** One HMAC outside a rotation window, so the everyday statement stays the single-hash one. */
  private hashes(number: string): Buffer[] {
    return this.keys.lookupHashes('instrument', number);
  }

  /**
   * Runs a round trip to the ledger's database through the breaker: its failures open the breaker, and
   * while the breaker is open it is refused at once (opossum's EOPENBREAKER). The caller keeps its own
   * time budget.
   */
  guard<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new LedgerUnavailableError('breaker-open', 'ledger reader closed'));
    return this.breaker.fire(work) as Promise<T>;
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  /** Stops the breaker's timers and refuses further round trips. The pool belongs to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.breaker.shutdown();
  }

  private changeState(state: BreakerState): void {
    const previous = this.lastState;
    if (state === previous) return;
    this.lastState = state;
    const context = { breaker: 'ledger', state, previous };
    if (state === 'open') this.log.warn(context, 'ledger: circuit breaker opened, inquiries answer 91');
    else this.log.info(context, `ledger: circuit breaker ${state}`);
  }
}
