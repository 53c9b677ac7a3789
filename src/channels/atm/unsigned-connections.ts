import type { Connection } from '../../transport/index.js';

/**
 * An unsigned connection this young is never evicted: a real ATM host signs on within milliseconds of
 * connecting, so only a flood of new connections is that young, and that flood is refused instead.
 */
export const EVICT_AFTER_MS = 1_000;

export type Admission = { readonly admitted: true; readonly evicted?: Connection } | { readonly admitted: false };

/**
 * Connections that have not signed on yet, per source address (the proxied one behind a load balancer),
 * capped. At the cap the oldest one makes room if it has waited at least EVICT_AFTER_MS: sockets that trickle
 * bytes and never sign on then cannot lock a partner's real host out, which signs on at once and leaves this
 * count. Signed-on sessions are never counted here.
 */
export class UnsignedConnections {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly bySource = new Map<string, Map<Connection, number>>();

  constructor(private readonly cap: number) {}

  admit(source: string, connection: Connection, now = Date.now()): Admission {
    let waiting = this.bySource.get(source);
    if (!waiting) this.bySource.set(source, (waiting = new Map()));
    let evicted: Connection | undefined;
    if (waiting.size >= this.cap) {
      const [oldest, since] = waiting.entries().next().value as [Connection, number];
      if (now - since < EVICT_AFTER_MS) return { admitted: false };
      waiting.delete(oldest);
      oldest.destroy('EVICTED');
      evicted = oldest;
    }
    waiting.set(connection, now);
    return evicted ? { admitted: true, evicted } : { admitted: true };
  }

  /** Signed on, or closed: no longer counted. */
  release(source: string, connection: Connection): void {
    const waiting = this.bySource.get(source);
    if (!waiting?.delete(connection)) return;
    if (waiting.size === 0) this.bySource.delete(source);
  }

  countFrom(source: string): number {
    return this.bySource.get(source)?.size ?? 0;
  }
}
