import pg from 'pg';
import type { Pool } from 'pg';
import type { Logger } from '../../observability/logger.js';
import type { ClientTlsOptions, Connection, Dialer } from '../../transport/index.js';

/**
 * With N switch instances on one database, one instance at a time dials each dial-out link: a bank may accept
 * one connection only, and two instances signing on would knock each other off it. The dialling instance holds
 * a PostgreSQL session advisory lock per link on a connection of its own (outside the pool, so the pool's
 * connections all stay for inquiries). When the instance dies, or loses its
 * database session, PostgreSQL releases its locks and another instance takes the links at its next poll.
 *
 * An instance that cannot reach the database dials nothing: it could not answer the bank's inquiries either
 * (they would all be 91), and it cannot know that no other instance dials.
 */
export interface DialOutLeadershipOptions {
  /** The switch's pool: the lock's session connects with the same settings and credentials. */
  readonly pool: Pool;
  readonly log: Logger;
  /** How often a standby tries to take a link, and the leader checks its session. Default 2 s. */
  readonly pollMs?: number;
}

/** The lock's first key: its own space, apart from the migrations' single-key lock (src/ledger/migrate.ts). */
const LOCK_SPACE = 8583;
const DEFAULT_POLL_MS = 2_000;

interface Link {
  readonly id: string;
  readonly start: () => Dialer;
  dialer: Dialer | undefined;
  stopped: boolean;
  /** TLS files re-read by a reload while another instance led: applied when this one takes over. */
  tls: ClientTlsOptions | undefined;
}

export class DialOutLeadership {
  readonly #links = new Map<string, Link>();
  readonly #pollMs: number;
  #session: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(private readonly options: DialOutLeadershipOptions) {
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  /**
   * A dialer for link `id` that dials (with `start`) only while this instance holds the link's lock. Stopping
   * it releases the lock, so another instance can take the link at once.
   */
  guard(id: string, start: () => Dialer): Dialer {
    const link: Link = { id, start, dialer: undefined, stopped: false, tls: undefined };
    this.#links.set(id, link);
    this.#schedule(0);
    return {
      get connection(): Connection | undefined {
        return link.dialer?.connection;
      },
      get attempts(): number {
        return link.dialer?.attempts ?? 0;
      },
      updateTls(tls) {
        link.dialer?.updateTls(tls);
        link.tls = tls;
      },
      stop: async (stopOptions) => {
        link.stopped = true;
        if (this.#links.get(id) === link) this.#links.delete(id);
        await this.#polling;
        await this.#resign(link, stopOptions);
      },
    };
  }

  /** Links this instance dials now. */
  leading(): string[] {
    return [...this.#links.values()].filter((link) => link.dialer).map((link) => link.id);
  }

  /** Stops polling and gives up every link and the session (the dialers' own stop ends their connections). */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#polling;
    for (const link of this.#links.values()) await this.#resign(link, { graceMs: 0 });
    this.#links.clear();
    await this.#session?.end().catch(() => undefined);
    this.#session = undefined;
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#polling = this.#poll().finally(() => {
        this.#polling = undefined;
        if (this.#links.size > 0) this.#schedule(this.#pollMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #poll(): Promise<void> {
    const { log } = this.options;
    try {
      const session = this.#session ?? await this.#connect();
      await session.query('SELECT 1');
      for (const link of this.#links.values()) {
        if (link.dialer || link.stopped) continue;
        const { rows } = await session.query<{ taken: boolean }>(
          'SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS taken', [LOCK_SPACE, `dial-out/${link.id}`]);
        if (!rows[0]?.taken) continue;
        link.dialer = link.start();
        if (link.tls) link.dialer.updateTls(link.tls);
        log.info({ partner: link.id }, 'dial-out: this instance leads the link and dials it');
      }
    } catch (error) {
      // The session is gone, and with it every lock: stop dialing before another instance starts.
      const led = this.leading();
      if (led.length > 0) log.warn({ partners: led, err: error }, 'dial-out: database session lost; giving up the links it led');
      else log.debug({ err: error }, 'dial-out: no database session; standing by');
      for (const link of this.#links.values()) await this.#stopDialer(link, { graceMs: 0 });
      const lost = this.#session;
      this.#session = undefined;
      await lost?.end().catch(() => undefined);
    }
  }

  async #connect(): Promise<pg.Client> {
    const { options } = this.options.pool;
    // pg keeps the password non-enumerable (so it stays out of logs): a spread alone would drop it.
    const session = new pg.Client({ ...options, password: options.password });
    // A session that dies between polls is noticed by the next poll's SELECT 1; until then, no crash.
    session.on('error', () => undefined);
    await session.connect();
    this.#session = session;
    return session;
  }

  async #resign(link: Link, stopOptions?: { graceMs?: number }): Promise<void> {
    if (!link.dialer) return;
    await this.#stopDialer(link, stopOptions);
    await this.#session?.query('SELECT pg_advisory_unlock($1::int, hashtext($2))', [LOCK_SPACE, `dial-out/${link.id}`]).catch(() => undefined);
  }

  async #stopDialer(link: Link, stopOptions?: { graceMs?: number }): Promise<void> {
    const dialer = link.dialer;
    link.dialer = undefined;
    await dialer?.stop(stopOptions);
  }
}
