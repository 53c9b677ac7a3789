import net from 'node:net';
import tls from 'node:tls';
import { silentLogger } from '../observability/logger.js';
import { fullJitterDelay, type BackoffOptions } from './backoff.js';
import { Connection } from './connection.js';
import type { CloseInfo, ConnectionOptions, MessageHandler } from './connection-types.js';
import { clientTlsConnectOptions, type ClientTlsOptions } from './tls/client-tls.js';

export interface DialerOptions extends ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: ClientTlsOptions;
  /** A connect (TCP + TLS handshake) that takes longer is abandoned and retried. Default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly backoff?: BackoffOptions & {
    /** A connection that lived this long resets the backoff; one that dies sooner keeps it growing. Default 30 s. */
    readonly stableAfterMs?: number;
  };
  /**
   * Each time a connection is up (after every reconnect): return its message handler, so the bank's
   * own requests on it get answered. The switch sends its sign-on from here and schedules echo tests.
   */
  readonly onConnected: (connection: Connection) => MessageHandler;
  /** Each time the connection is lost (already logged). */
  readonly onDisconnected?: (info: CloseInfo, connection: Connection) => void;
  /** Randomness for the jitter; tests pass a fixed one. */
  readonly random?: () => number;
}

export interface Dialer {
  /** The live connection, if any. */
  readonly connection: Connection | undefined;
  /** Connect attempts made so far, successful or not. */
  readonly attempts: number;
  /** The certificate, key and CAs for the next connect (reload); the live connection keeps its session. */
  updateTls(tls: ClientTlsOptions): void;
  /** No more reconnects; ends the live connection gracefully (in-flight replies still go out). */
  stop(options?: { graceMs?: number }): Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_STABLE_AFTER_MS = 30_000;

/** Keeps one outbound connection to a bank's host up: connects, and reconnects with backoff whenever it drops. */
export function startDialer(options: DialerOptions): Dialer {
  const log = (options.logger ?? silentLogger()).child({ dial: `${options.host}:${options.port}` });
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const stableAfterMs = options.backoff?.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS;
  let stopped = false;
  let failures = 0; // consecutive, drives the backoff
  let attempts = 0;
  let timer: NodeJS.Timeout | undefined;
  let connecting: net.Socket | undefined;
  let current: Connection | undefined;
  let tlsOptions = options.tls;

  const retryLater = (): void => {
    if (stopped) return;
    const delay = fullJitterDelay(failures, options.backoff, options.random);
    failures++;
    log.debug({ delayMs: delay, failures }, 'reconnect scheduled');
    timer = setTimeout(dial, delay);
  };

  const connected = (socket: net.Socket): void => {
    connecting = undefined;
    const connection = new Connection(socket, options);
    const since = Date.now();
    current = connection;
    void connection.closed.then((info) => {
      current = undefined;
      if (Date.now() - since >= stableAfterMs) failures = 0;
      log.info({ reason: info.reason, errorCode: info.errorCode }, 'dial-out connection lost');
      try {
        options.onDisconnected?.(info, connection);
      } catch (err) {
        log.error({ errName: (err as { name?: unknown }).name }, 'onDisconnected failed');
      }
      retryLater();
    });
    let handler: MessageHandler;
    try {
      handler = options.onConnected(connection);
    } catch (err) {
      log.error({ errName: (err as { name?: unknown }).name }, 'onConnected failed; closing');
      connection.destroy();
      return;
    }
    log.info({ attempt: attempts, tlsSubject: connection.peer.tlsSubject }, 'dial-out connected');
    connection.start(handler);
  };

  function dial(): void {
    timer = undefined;
    if (stopped) return;
    attempts++;
    const socket = tlsOptions !== undefined
      ? tls.connect(clientTlsConnectOptions(options.host, options.port, tlsOptions))
      : net.connect({ host: options.host, port: options.port, allowHalfOpen: true });
    connecting = socket;
    let failure: string | undefined;
    const onTimeout = (): void => {
      failure = 'CONNECT_TIMEOUT';
      socket.destroy();
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      failure ??= err.code ?? err.name;
    };
    const onClose = (): void => {
      connecting = undefined;
      if (stopped) return;
      log.info({ code: failure ?? 'CLOSED', attempt: attempts }, 'dial-out connect failed');
      retryLater();
    };
    const readyEvent = tlsOptions !== undefined ? 'secureConnect' : 'connect';
    const onReady = (): void => {
      // From here the Connection owns the socket and its events.
      socket.setTimeout(0);
      socket.off('timeout', onTimeout);
      socket.off('error', onError);
      socket.off('close', onClose);
      connected(socket);
    };
    socket.setTimeout(connectTimeoutMs);
    socket.once('timeout', onTimeout);
    socket.on('error', onError);
    socket.once('close', onClose);
    socket.once(readyEvent, onReady);
  }

  dial();

  return {
    get connection() {
      return current;
    },
    get attempts() {
      return attempts;
    },
    updateTls(next) {
      if (tlsOptions === undefined) throw new Error('updateTls: this dialer has no TLS');
      tls.createSecureContext(clientTlsConnectOptions(options.host, options.port, next)); // throws before replacing
      tlsOptions = next;
    },
    async stop({ graceMs } = {}) {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      connecting?.destroy();
      if (current !== undefined) await current.end(graceMs);
    },
  };
}
