import type { Logger } from '../observability/logger.js';
import { describeDatabaseError, isRejectedData } from './database-errors.js';
import { JournalError } from './errors.js';

export interface BatchQueueOptions<T> {
  /** Names the queue in logs and errors. */
  name: string;
  /** Writes one batch, in queue order. Rejects to leave the batch queued. */
  write: (batch: readonly T[]) => Promise<void>;
  /** A partial batch waits at most this long. */
  flushIntervalMs: number;
  /** A batch is written as soon as this many items are queued. */
  maxBatchSize: number;
  /** Hard bound on queued items: past it new items are dropped, counted and logged. */
  capacity: number;
  /** Depth at which an error is logged (once per crossing): the database is slow or unreachable. */
  highWaterMark: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  logger: Logger;
}

/** Drops are logged at most this often (with a count), so an outage does not flood the log. */
const DROP_REPORT_INTERVAL_MS = 10_000;

/**
 * An in-memory queue written to the database in batches, off the caller's path: `push` never waits.
 * Batches go out every `flushIntervalMs` or as soon as `maxBatchSize` items are queued. While the database
 * is unreachable items stay queued and writes are retried with exponential backoff; one batch is written at
 * a time, so items land in the order they were pushed.
 */
export class BatchQueue<T> {
  private readonly options: BatchQueueOptions<T>;
  private readonly log: Logger;
  private items: T[] = [];
  /** Items taken off the front so far (written or rejected); lets `flush` wait for "everything queued now". */
  private removed = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDelayMs = 0;
  private draining = false;
  private failures = 0;
  private closed = false;
  private aboveHighWater = false;
  private droppedTotal = 0;
  /** Drops not yet logged, by cause. */
  private readonly droppedUnreported = { full: 0, closed: 0 };
  private lastDropReport = 0;
  private rejectedTotal = 0;
  /** Serialises writes between the background drain and `flush`/`close`. */
  private lock: Promise<void> = Promise.resolve();

  constructor(options: BatchQueueOptions<T>) {
    this.options = options;
    this.log = options.logger.child({ queue: options.name });
  }

  get depth(): number {
    return this.items.length;
  }

  /** Items lost because the queue was full or closed. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Items the database refused (constraint or data errors), written around and dropped. */
  get rejected(): number {
    return this.rejectedTotal;
  }

  /** Queues an item; returns false (and counts it) when it had to be dropped. */
  push(item: T): boolean {
    if (this.closed || this.items.length >= this.options.capacity) {
      this.droppedTotal++;
      this.droppedUnreported[this.closed ? 'closed' : 'full']++;
      this.reportDrops(false);
      return false;
    }
    this.items.push(item);
    const depth = this.items.length;
    if (!this.aboveHighWater && depth >= this.options.highWaterMark) {
      this.aboveHighWater = true;
      this.log.error({ depth, capacity: this.options.capacity }, 'queue above its high-water mark: database slow or unreachable');
    }
    if (this.draining || this.failures > 0) return true; // the drain in progress, or the retry timer, takes it
    this.schedule(depth >= this.options.maxBatchSize ? 0 : this.options.flushIntervalMs);
    return true;
  }

  /** Writes everything queued when called (not what arrives meanwhile). Rejects if the database does. */
  async flush(): Promise<void> {
    const target = this.removed + this.items.length;
    while (this.removed < target && this.items.length > 0) {
      await this.exclusive(() => this.writeFront());
    }
  }

  /**
   * Stops accepting items and writes all that are queued, retrying with backoff for up to `timeoutMs`.
   * Rejects with JOURNAL_CLOSE_TIMEOUT (after logging how many were lost) if the database stays away.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    this.clearTimer();
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.flush();
        this.reportDrops(true);
        return;
      } catch (error) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          this.reportDrops(true);
          const unwritten = this.items.length;
          this.log.error({ unwritten, error: describeDatabaseError(error) }, 'closing with entries the database never took: they are lost');
          throw new JournalError('JOURNAL_CLOSE_TIMEOUT', `${this.options.name}: ${unwritten} entries unwritten at close`, {
            cause: error,
            unwritten,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(this.retryDelay(attempt), remaining)));
      }
    }
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer !== undefined) {
      if (this.timerDelayMs <= delayMs) return;
      clearTimeout(this.timer);
    }
    this.timerDelayMs = delayMs;
    this.timer = setTimeout(this.startDrain, delayMs);
    // A pending flush must not keep the process alive; clean shutdown goes through close().
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly startDrain = (): void => {
    this.timer = undefined;
    if (this.draining || this.closed) return;
    this.draining = true;
    void this.drain();
  };

  private async drain(): Promise<void> {
    try {
      do {
        await this.exclusive(() => this.writeFront());
      } while (this.items.length >= this.options.maxBatchSize && !this.closed);
    } catch (error) {
      this.failures++;
      const retryInMs = this.retryDelay(this.failures);
      this.log.warn(
        { error: describeDatabaseError(error), depth: this.items.length, failures: this.failures, retryInMs },
        'batch write failed; keeping entries queued',
      );
      this.draining = false;
      this.schedule(retryInMs);
      return;
    }
    this.draining = false;
    if (this.items.length > 0) this.schedule(this.options.flushIntervalMs);
  }

  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.lock.then(task);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Writes the oldest batch. Only ever runs under the lock, so nothing else takes items off the front. */
  private async writeFront(): Promise<void> {
    const batch = this.items.slice(0, this.options.maxBatchSize);
    if (batch.length === 0) return;
    try {
      await this.options.write(batch);
      this.takeFront(batch.length);
    } catch (error) {
      if (!isRejectedData(error)) throw error;
      // One bad row must not hold the queue hostage: write the batch row by row, dropping only the bad ones.
      await this.writeOneByOne(batch);
    }
    this.noteSuccess();
  }

  private async writeOneByOne(batch: readonly T[]): Promise<void> {
    for (const item of batch) {
      try {
        await this.options.write([item]);
      } catch (error) {
        if (!isRejectedData(error)) throw error;
        this.rejectedTotal++;
        this.log.error({ error: describeDatabaseError(error), rejectedTotal: this.rejectedTotal }, 'database rejected an entry; dropped');
      }
      this.takeFront(1);
    }
  }

  private takeFront(count: number): void {
    this.items.splice(0, count);
    this.removed += count;
  }

  private noteSuccess(): void {
    if (this.failures > 0) {
      this.log.info({ failures: this.failures, depth: this.items.length }, 'database writes recovered');
      this.failures = 0;
    }
    if (this.aboveHighWater && this.items.length < this.options.highWaterMark / 2) {
      this.aboveHighWater = false;
      this.log.info({ depth: this.items.length }, 'queue back below its high-water mark');
    }
    this.reportDrops(false);
  }

  private reportDrops(force: boolean): void {
    const unreported = this.droppedUnreported;
    if (unreported.full + unreported.closed === 0) return;
    const now = Date.now();
    if (!force && now - this.lastDropReport < DROP_REPORT_INTERVAL_MS) return;
    const { droppedTotal } = this;
    if (unreported.full > 0) {
      this.log.error({ dropped: unreported.full, droppedTotal, capacity: this.options.capacity }, 'queue full: entries dropped');
    }
    if (unreported.closed > 0) {
      this.log.error({ dropped: unreported.closed, droppedTotal }, 'entries arrived after close: dropped');
    }
    unreported.full = 0;
    unreported.closed = 0;
    this.lastDropReport = now;
  }

  private retryDelay(attempt: number): number {
    const { retryInitialDelayMs, retryMaxDelayMs } = this.options;
    const base = Math.min(retryMaxDelayMs, retryInitialDelayMs * 2 ** Math.min(attempt - 1, 20));
    // Jitter, so instances that lost the database together do not all come back in the same millisecond.
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }
}
