import type { Logger } from '../observability/logger.js';

/**
 * Refused connections, logged as one summary line per interval: a flood of them (thousands a second from a
 * scanner or a slow-socket attack) costs one line, not one each, and still says what was refused and how
 * often. The first refusal after a quiet interval is logged at once, so a single one is not delayed.
 */
export class RefusalLog {
  private counts = new Map<string, number>();
  private sources = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger, private readonly intervalMs: number) {}

  record(fields: { reason: string; remoteAddress: string; detail?: string | undefined; partner?: string | undefined }): void {
    if (this.timer === undefined) {
      this.log.info(fields, 'connection refused');
      this.timer = setTimeout(this.flush, this.intervalMs);
      this.timer.unref();
      return;
    }
    this.counts.set(fields.reason, (this.counts.get(fields.reason) ?? 0) + 1);
    this.sources.add(fields.remoteAddress);
  }

  private readonly flush = (): void => {
    this.timer = undefined;
    if (this.counts.size === 0) return;
    const refused = Object.fromEntries(this.counts);
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0);
    this.log.warn({ refused, total, sources: this.sources.size, intervalMs: this.intervalMs }, 'connections refused (summary)');
    this.counts = new Map();
    this.sources = new Set();
    // Still busy: keep summarising instead of logging the next one on its own.
    this.timer = setTimeout(this.flush, this.intervalMs);
    this.timer.unref();
  };

  /** Logs what is pending now (at shutdown). */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.flush();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
