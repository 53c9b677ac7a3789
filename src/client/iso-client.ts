import net from 'node:net';
import tls from 'node:tls';
import type { IsoMessage} from '../iso8583/index.js';
import { Packager, loadProfile } from '../iso8583/index.js';
import { Connection } from '../transport/connection.js';
import { createFraming, type FramingSpec, type FramingName } from '../transport/framing/index.js';

/** Raised when a request gets no answer in time or the connection goes away first. */
export class IsoClientError extends Error {
  override readonly name = 'IsoClientError';
  constructor(readonly code: 'CLIENT_TIMEOUT' | 'CLIENT_CLOSED' | 'CLIENT_CONNECT_FAILED' | 'CLIENT_SIGN_ON_REFUSED', message: string) {
    super(message);
  }
}

export interface IsoClientOptions {
  host?: string;
  port: number;
  profile?: string;
  framing?: FramingSpec | FramingName;
  /** Client certificate for a mutual-TLS listener. */
  tls?: tls.ConnectionOptions;
  timeoutMs?: number;
  /** The local address to connect from (a host with several; tests use 127.0.0.x to stand for several banks). */
  localAddress?: string;
}

interface Pending {
  resolve: (message: IsoMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** The response class of a request MTI: 0200 and 0201 are both answered by 0210. */
function responseClass(mti: string): string {
  return `${mti.slice(0, 2)}${Number(mti[2]) + 1}`;
}

/**
 * A partner-side ISO 8583 client with many requests in flight: responses are matched to requests by
 * MTI class + field 11 + field 41 (as jPOS's QMUX does), so they may arrive in any order.
 */
export class IsoClient {
  private readonly pending = new Map<string, Pending>();
  private stan = Math.floor(Math.random() * 900_000);
  /** Responses that matched no request (late after a timeout, or unsolicited). */
  unmatched = 0;
  /** True once the connection has closed, from either side: a new request would fail at once. */
  isClosed = false;

  private constructor(
    private readonly connection: Connection,
    readonly packager: Packager,
    private readonly timeoutMs: number,
  ) {
    connection.start({
      onMessage: (body) => {
        this.onResponse(body);
        return null;
      },
      onClose: () => {
        this.isClosed = true;
        this.failAll(new IsoClientError('CLIENT_CLOSED', 'connection closed'));
      },
    });
  }

  static async connect(options: IsoClientOptions): Promise<IsoClient> {
    const host = options.host ?? '127.0.0.1';
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const from = options.localAddress !== undefined ? { localAddress: options.localAddress } : {};
      const s = options.tls
        ? tls.connect({ host, port: options.port, ...from, ...options.tls }, () => resolve(s))
        : net.connect({ host, port: options.port, ...from }, () => resolve(s));
      s.once('error', (error) => reject(new IsoClientError('CLIENT_CONNECT_FAILED', `cannot connect to ${host}:${options.port}: ${error.message}`)));
    });
    socket.removeAllListeners('error');
    const connection = new Connection(socket, { framing: createFraming(options.framing ?? 'binary-2'), maxInFlight: 100_000 });
    return new IsoClient(connection, new Packager(loadProfile(options.profile ?? 'iso87-ascii')), options.timeoutMs ?? 10_000);
  }

  /** The next STAN (field 11), six digits, wrapping at 999999. */
  nextStan(): string {
    this.stan = (this.stan % 999_999) + 1;
    return String(this.stan).padStart(6, '0');
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends a request and resolves with its response. */
  request(message: IsoMessage): Promise<IsoMessage> {
    return this.requestRaw(this.packager.pack(message), message);
  }

  /**
   * Sends bytes as they are (tests of malformed requests) and resolves with the response that matches
   * `matchOn`'s MTI class, field 11 and field 41.
   */
  requestRaw(body: Buffer, matchOn: IsoMessage): Promise<IsoMessage> {
    const message = matchOn;
    const key = `${responseClass(message.mti)}:${message.get(11) ?? ''}:${message.get(41) ?? ''}`;
    return new Promise<IsoMessage>((resolve, reject) => {
      if (this.isClosed) {
        reject(new IsoClientError('CLIENT_CLOSED', 'connection closed'));
        return;
      }
      if (this.pending.has(key)) {
        reject(new Error(`a request with key ${key} is already in flight`));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new IsoClientError('CLIENT_TIMEOUT', `no answer to ${message.mti} STAN ${message.get(11) ?? '?'} in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(key, { resolve, reject, timer });
      this.connection.send(body);
    });
  }

  /** Sends raw bytes as one frame (tests of garbage and retransmissions). */
  sendRaw(body: Buffer): void {
    this.connection.send(body);
  }

  async close(): Promise<void> {
    await this.connection.end(2_000);
  }

  private onResponse(body: Buffer): void {
    let message: IsoMessage;
    try {
      message = this.packager.unpack(body);
    } catch {
      this.unmatched++;
      return;
    }
    let key = `${message.mti.slice(0, 3)}:${message.get(11) ?? ''}:${message.get(41) ?? ''}`;
    // A format-error answer may lack 41 (it could not be decoded): then MTI class and STAN must do.
    if (!this.pending.has(key) && !message.has(41)) {
      const prefix = key.slice(0, -1);
      key = [...this.pending.keys()].find((k) => k.startsWith(prefix)) ?? key;
    }
    const pending = this.pending.get(key);
    if (!pending) {
      this.unmatched++;
      return;
    }
    this.pending.delete(key);
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  private failAll(error: Error): void {
    for (const [key, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(key);
      pending.reject(error);
    }
  }
}
