import { setTimeout as sleep } from 'node:timers/promises';
import type { IsoMessage } from '../iso8583/index.js';
import { fullJitterDelay, type BackoffOptions } from '../transport/backoff.js';
import { networkRequest } from './atm-messages.js';
import { IsoClient, IsoClientError, type IsoClientOptions } from './iso-client.js';

/**
 * What a bank's ATM host does around the bare client, so that a switch instance dying under it costs no
 * transaction (specs/INTERFACE.md, "Retransmissions"):
 * - it reconnects with backoff (through HAProxy that lands on a surviving instance), and signs on again;
 * - a request left without an answer (timeout, or the connection lost under it) is sent again as a repeat
 *   (0201 for 0200), same fields 7, 11, 32 and 41, until a final answer comes or the repeats run out. The
 *   switch answers a repeat with the original's stored answer, or processes it anew when the original's
 *   outcome is unknown, so the participant sees exactly one answer and the journal one processing.
 */
export interface AtmHostOptions extends IsoClientOptions {
  /** Sign on (0800, 70 = 001) after every connect. Default true. */
  signOn?: boolean;
  /** Repeats after the original, before giving up. Default 3. */
  maxRepeats?: number;
  /** Backoff between connection attempts. */
  reconnect?: BackoffOptions;
  /** A connection (and its sign-on) must succeed within this, or the request fails. Default 30 s. */
  connectDeadlineMs?: number;
  /** Called on every reconnect and repeat: the CLI prints them, tests count them. No card data is passed. */
  onEvent?: (event: AtmHostEvent) => void;
}

export type AtmHostEvent =
  | { type: 'connected'; attempt: number }
  | { type: 'connect-failed'; attempt: number; reason: string }
  | { type: 'repeat'; mti: string; stan: string; attempt: number; reason: IsoClientError['code'] };

export interface InquiryOutcome {
  response: IsoMessage;
  /** 1 when the original was answered; more when repeats were needed. */
  attempts: number;
}

export class AtmHost {
  #client: IsoClient | undefined;
  #connecting: Promise<IsoClient> | undefined;
  #closed = false;
  #connections = 0;
  #stan = Math.floor(Math.random() * 900_000);
  reconnects = 0;

  private constructor(private readonly options: AtmHostOptions) {}

  /** Connects (retrying with backoff until the deadline) and signs on. */
  static async open(options: AtmHostOptions): Promise<AtmHost> {
    const host = new AtmHost(options);
    await host.connected();
    return host;
  }

  /** The next STAN (field 11), six digits: one sequence across reconnects, as a host keeps it. */
  nextStan(): string {
    this.#stan = (this.#stan % 999_999) + 1;
    return String(this.#stan).padStart(6, '0');
  }

  /** Sends `request` and resolves with its final answer, repeating it as described above. */
  async inquire(request: IsoMessage): Promise<InquiryOutcome> {
    const maxRepeats = this.options.maxRepeats ?? 3;
    let message = request;
    for (let attempt = 1; ; attempt++) {
      const client = await this.connected();
      try {
        return { response: await client.request(message), attempts: attempt };
      } catch (error) {
        if (!(error instanceof IsoClientError) || error.code === 'CLIENT_CONNECT_FAILED' || attempt > maxRepeats || this.#closed) throw error;
        if (error.code === 'CLIENT_CLOSED' && this.#client === client) this.#client = undefined;
        message = repeatOf(request);
        this.options.onEvent?.({ type: 'repeat', mti: message.mti, stan: message.get(11) ?? '', attempt: attempt + 1, reason: error.code });
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#client?.close().catch(() => undefined);
  }

  /** The live, signed-on client; one connection attempt at a time, shared by every request waiting for it. */
  private connected(): Promise<IsoClient> {
    if (this.#client && !this.#client.isClosed) return Promise.resolve(this.#client);
    this.#connecting ??= this.connect().finally(() => { this.#connecting = undefined; });
    return this.#connecting;
  }

  private async connect(): Promise<IsoClient> {
    const deadline = Date.now() + (this.options.connectDeadlineMs ?? 30_000);
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new IsoClientError('CLIENT_CLOSED', 'the host was closed');
      try {
        const client = await IsoClient.connect(this.options);
        if (this.options.signOn !== false) await this.signOn(client);
        if (this.#connections++ > 0) this.reconnects++;
        this.#client = client;
        this.options.onEvent?.({ type: 'connected', attempt });
        return client;
      } catch (error) {
        // A refusal is the switch's considered answer (not signed up, wrong address): trying again will not change it.
        if (error instanceof IsoClientError && error.code === 'CLIENT_SIGN_ON_REFUSED') throw error;
        const reason = error instanceof Error ? error.message : String(error);
        this.options.onEvent?.({ type: 'connect-failed', attempt, reason });
        const delay = fullJitterDelay(attempt - 1, this.options.reconnect ?? { baseMs: 100, maxMs: 2_000 });
        if (Date.now() + delay > deadline) {
          throw new IsoClientError('CLIENT_CONNECT_FAILED', `no signed-on connection to the switch within the deadline: ${reason}`);
        }
        await sleep(delay);
      }
    }
  }

  private async signOn(client: IsoClient): Promise<void> {
    const answer = await client.request(networkRequest(this.nextStan(), '001'));
    if (answer.get(39) !== '00') {
      await client.close().catch(() => undefined);
      throw new IsoClientError('CLIENT_SIGN_ON_REFUSED', `sign-on refused with ${answer.get(39) ?? '(no field 39)'}`);
    }
  }
}

/** The repeat of a request: the same message with the MTI's last digit 1 (0200 → 0201, 0400 → 0401). */
export function repeatOf(request: IsoMessage): IsoMessage {
  const repeat = request.clone();
  repeat.mti = `${request.mti.slice(0, 3)}1`;
  return repeat;
}
