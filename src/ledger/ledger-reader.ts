import CircuitBreaker from 'opossum';
import type { Pool } from 'pg';
import type { Logger } from '../observability/logger.js';
import type { KeyRing } from '../security/keys/index.js';
import { accountNumber, instrumentHash } from './instrument-hash.js';
import { LedgerUnavailableError, describeError } from './errors.js';
import type { LedgerUnavailableReason } from './errors.js';
import { lookupInstruments } from './lookup-query.js';
import type { InstrumentRef, ParticipantLookup } from './lookup-query.js';

export type { InstrumentRef, ParticipantLookup } from './lookup-query.js';

export type BreakerState = 'closed' | 'open' | 'half-open';
export type BreakerStateListener = (state: BreakerState, previous: BreakerState) => void;

export interface LedgerReaderOptions {
  /** Cards and accounts are hashed under each lookup key: the current one, and the previous one during a rotation window. */
  keys: KeyRing;
  log: Logger;
  /** Time budget of one lookup, from the moment it is asked to its answer. Default 250 ms. */
  timeoutMs?: number;
  /** How long the breaker stays open before letting one trial batch through. Default 2000 ms. */
  resetTimeoutMs?: number;
  /** Failure percentage over the rolling window that opens the breaker. Default 50. */
  errorThresholdPercentage?: number;
  /** Batches the rolling window must hold before the breaker may open. Default 5. */
  volumeThreshold?: number;
  /** Length of the breaker's rolling statistics window. Default 10000 ms. */
  rollingWindowMs?: number;
  /** Most lookups sent in one query. Default 64. */
  maxBatchSize?: number;
  /**
   * Most lookup queries in flight (pool connections the reader may hold). Lookups arriving meanwhile wait
   * and go together in the next query, so a slow database never drains the pool the journal needs. Default 4.
   */
  maxConcurrentQueries?: number;
}

interface PendingLookup {
  instrument: InstrumentRef;
  /** performance.now() past which the lookup has missed its budget. */
  deadline: number;
  resolve: (result: ParticipantLookup) => void;
  reject: (error: LedgerUnavailableError) => void;
}

/** A round trip to the ledger's database, run through the breaker. */
type DatabaseWork = () => Promise<unknown>;

/**
 * The ledger's read path: card or account -> participant and JHT balance, and the circuit breaker that
 * guards every round trip an ATM inquiry makes to the ledger's database.
 *
 * In the switch, a new inquiry's read rides in its duplicate-detection claim (src/journal/claim-batcher.ts),
 * which runs through {@link guard}: one statement for both. The lookups below are the stand-alone path, for a
 * caller without a claim (the pipeline's fallback, tools, tests).
 *
 * Lookups that arrive during one turn of the event loop (typically the frames read from all connections in
 * one poll phase) are sent as one query, `WHERE (kind, hash) IN batch`, on the next setImmediate. Under load
 * that turns N round trips and N pool checkouts into one; alone, a lookup waits for no one. At most
 * `maxConcurrentQueries` queries are in flight; later lookups coalesce until one returns.
 *
 * Each batch goes through an opossum circuit breaker, as does any round trip handed to {@link guard}.
 * Whatever goes wrong with a lookup surfaces as {@link LedgerUnavailableError} (the switch answers 91): the
 * budget was missed, the database failed, or the breaker is open, in which case the lookup is refused at once,
 * without touching the pool. After `resetTimeoutMs` the breaker lets one batch through (half-open) and closes
 * again if it succeeds.
 *
 * The time budget belongs to each lookup, from the moment it is asked, not to a batch: a lookup that waited
 * for a free query slot has less left. So the budget is enforced here (the batch gets what remains of its
 * most urgent lookup) rather than by opossum's fixed `timeout`; a missed budget still counts as a failure.
 */
export class LedgerReader {
  private readonly breaker: CircuitBreaker<[DatabaseWork], unknown>;
  private readonly pool: Pool;
  private readonly keys: KeyRing;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly maxBatchSize: number;
  private readonly maxConcurrentQueries: number;
  private readonly listeners = new Set<BreakerStateListener>();
  private pending: PendingLookup[] = [];
  private inFlight = 0;
  private flushScheduled = false;
  private closed = false;
  private lastState: BreakerState = 'closed';

  constructor(pool: Pool, options: LedgerReaderOptions) {
    this.keys = options.keys;
    this.log = options.log;
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 64);
    this.maxConcurrentQueries = Math.max(1, options.maxConcurrentQueries ?? 4);
    this.timeoutMs = options.timeoutMs ?? 250;
    this.pool = pool;
    this.breaker = new CircuitBreaker<[DatabaseWork], unknown>(
      (work) => work(),
      {
        name: 'ledger',
        timeout: false, // see the class comment: the budget is per lookup
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

  /** The participant linked to this card (field 2), with the JHT balance. */
  lookupByCard(pan: string): Promise<ParticipantLookup> {
    return this.lookup(this.card(pan));
  }

  /** The participant linked to this account (field 102), with the JHT balance. */
  lookupByAccount(account: string): Promise<ParticipantLookup> {
    return this.lookup(this.account(account));
  }

  /** The participant linked to an instrument made by `card` or `account`, with the JHT balance. */
  lookup(instrument: InstrumentRef): Promise<ParticipantLookup> {
    return this.enqueue(instrument);
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
    return this.keys.lookupKeys().map((key) => instrumentHash(key, number));
  }

  /**
   * Runs another round trip to the ledger's database through the breaker: its failures open the breaker as
   * a lookup's would, and while the breaker is open it is refused at once (opossum's EOPENBREAKER). The
   * caller keeps its own time budget.
   */
  guard<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new LedgerUnavailableError('breaker-open', 'ledger reader closed'));
    return this.breaker.fire(work) as Promise<T>;
  }

  /**
   * Opens a connection and prepares the lookup statement, outside the breaker, so the first inquiry does
   * not pay for them inside its budget. For start-up; rejects with {@link LedgerUnavailableError} when the
   * ledger cannot be queried (schema missing, server down).
   */
  async warmUp(timeoutMs = 5000): Promise<void> {
    try {
      // The statement this ring's lookups use: the rotation one while two keys are tried.
      await lookupInstruments(this.pool, [{ kind: 'CARD', hashes: this.keys.lookupKeys().map(() => Buffer.alloc(32)) }], timeoutMs);
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  /** Calls `listener` on every breaker transition (for metrics); returns a function that unsubscribes. */
  onStateChange(listener: BreakerStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the breaker's timers and refuses further lookups. The pool belongs to the caller. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const refused = new LedgerUnavailableError('breaker-open', 'ledger reader closed');
    for (const lookup of this.pending) lookup.reject(refused);
    this.pending = [];
    this.listeners.clear();
    this.breaker.shutdown();
  }

  private enqueue(instrument: InstrumentRef): Promise<ParticipantLookup> {
    if (this.closed) return Promise.reject(new LedgerUnavailableError('breaker-open', 'ledger reader closed'));
    if (this.breaker.opened) return Promise.reject(new LedgerUnavailableError('breaker-open'));
    return new Promise<ParticipantLookup>((resolve, reject) => {
      this.pending.push({ instrument, deadline: performance.now() + this.timeoutMs, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.pending.length === 0) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    while (this.pending.length > 0 && this.inFlight < this.maxConcurrentQueries) {
      const now = performance.now();
      const batch = this.pending.splice(0, this.maxBatchSize).filter((lookup) => {
        if (lookup.deadline > now) return true;
        // Waited for a query slot past its budget: never sent, not the database's fault on its own.
        lookup.reject(new LedgerUnavailableError('timeout', 'no query slot within the budget'));
        return false;
      });
      if (batch.length > 0) this.send(batch, now);
    }
  };

  private send(batch: PendingLookup[], now: number): void {
    const budgetMs = Math.max(1, Math.min(...batch.map((lookup) => lookup.deadline)) - now);
    this.inFlight++;
    const instruments = batch.map((l) => l.instrument);
    this.guard(() => this.query(instruments, budgetMs)).then(
      (results) => {
        for (let i = 0; i < batch.length; i++) batch[i]?.resolve(results[i] ?? { kind: 'not-linked' });
      },
      (error: unknown) => {
        const unavailable = toUnavailable(error);
        for (const lookup of batch) lookup.reject(unavailable);
      },
    ).finally(() => {
      this.inFlight--;
      this.scheduleFlush();
    });
  }

  /** The breaker's action: one query, abandoned (and its connection discarded by pg) when the budget runs out. */
  private async query(instruments: InstrumentRef[], budgetMs: number): Promise<ParticipantLookup[]> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LedgerUnavailableError('timeout')), budgetMs);
    });
    try {
      return await Promise.race([lookupInstruments(this.pool, instruments, Math.ceil(budgetMs)), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  private changeState(state: BreakerState): void {
    const previous = this.lastState;
    if (state === previous) return;
    this.lastState = state;
    const context = { breaker: 'ledger', state, previous };
    if (state === 'open') this.log.warn(context, 'ledger: circuit breaker opened, inquiries answer 91');
    else this.log.info(context, `ledger: circuit breaker ${state}`);
    for (const listener of this.listeners) {
      try {
        listener(state, previous);
      } catch (error) {
        this.log.error({ reason: describeError(error) }, 'ledger: breaker state listener threw');
      }
    }
  }
}

const TIMEOUT_MESSAGES = ['Query read timeout', 'timeout exceeded when trying to connect', 'Connection terminated due to connection timeout'];

function toUnavailable(error: unknown): LedgerUnavailableError {
  if (error instanceof LedgerUnavailableError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  let reason: LedgerUnavailableReason = 'database-error';
  if (code === 'ETIMEDOUT' || code === '57014' || TIMEOUT_MESSAGES.includes(message)) reason = 'timeout';
  else if (code === 'EOPENBREAKER' || code === 'ESHUTDOWN') reason = 'breaker-open';
  return new LedgerUnavailableError(reason, reason === 'database-error' ? describeError(error) : undefined, { cause: error });
}
