import net from 'node:net';
import type tls from 'node:tls';
import { silentLogger } from '../observability/logger.js';
import { AllowList, normalizeAddress } from './allow-list.js';
import { Connection } from './connection.js';
import type { ConnectionOptions, MessageHandler } from './connection-types.js';
import { createTlsTerminator, subjectAllowed, type ServerTlsOptions } from './tls/server-tls.js';

export type RefusalReason =
  | 'ADDRESS_NOT_ALLOWED'
  | 'TOO_MANY_CONNECTIONS'
  /** No certificate, another CA, expired, TLS < 1.2, handshake timeout … `detail` has node's code. */
  | 'TLS_HANDSHAKE_FAILED'
  | 'TLS_SUBJECT_NOT_EXPECTED'
  | 'SHUTTING_DOWN';

/** A peer turned away before any of its ISO 8583 bytes was read. */
export interface Refusal {
  readonly reason: RefusalReason;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly detail?: string;
}

export interface ListenerOptions extends ConnectionOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 picks a free port (tests); read it back from Listener.port. */
  readonly port: number;
  readonly tls?: ServerTlsOptions;
  /** Peer addresses or CIDR blocks allowed to connect; unset allows any. */
  readonly allowList?: readonly string[];
  /** Connections (TLS handshakes included) beyond this are closed at accept. */
  readonly maxConnections?: number;
  /** An accepted, verified connection: return its message handler. Reading starts when it returns. */
  readonly onConnection: (connection: Connection) => MessageHandler;
  /** Each refused peer (already logged): for metrics. */
  readonly onRefused?: (refusal: Refusal) => void;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Open connections (verified and handed to onConnection). */
  readonly connections: ReadonlySet<Connection>;
  /** Stops accepting; open connections carry on. */
  close(): void;
  /**
   * Graceful shutdown: stop accepting, drop unfinished TLS handshakes, end every connection (in-flight
   * replies are written, then FIN), destroying any still open after `graceMs`.
   */
  closeAll(options?: { graceMs?: number }): Promise<void>;
}

export async function startListener(options: ListenerOptions): Promise<Listener> {
  const log = (options.logger ?? silentLogger()).child({ listener: options.port });
  const host = options.host ?? '127.0.0.1';
  const allowList = options.allowList !== undefined ? new AllowList(options.allowList) : undefined;
  const terminator = options.tls !== undefined ? createTlsTerminator(options.tls) : undefined;
  const connections = new Set<Connection>();
  /** Raw sockets in their TLS handshake, by remote address:port (the TLS socket reports the same). */
  const handshaking = new Map<string, net.Socket>();
  let shuttingDown = false;

  const refuse = (reason: RefusalReason, remoteAddress: string | undefined, remotePort: number | undefined, detail?: string): void => {
    const refusal: Refusal = {
      reason,
      remoteAddress: normalizeAddress(remoteAddress ?? 'unknown'),
      remotePort: remotePort ?? 0,
      ...(detail !== undefined ? { detail } : {}),
    };
    log.info(refusal, 'connection refused');
    options.onRefused?.(refusal);
  };

  const accept = (socket: net.Socket): void => {
    const connection = new Connection(socket, options);
    connections.add(connection);
    void connection.closed.then(() => connections.delete(connection));
    let handler: MessageHandler;
    try {
      handler = options.onConnection(connection);
    } catch (err) {
      log.error({ errName: (err as { name?: unknown }).name, conn: connection.id }, 'onConnection failed; closing');
      connection.destroy();
      return;
    }
    connection.start(handler);
  };

  const server = net.createServer({ allowHalfOpen: true });
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
  // node closes connections beyond maxConnections itself and reports them here.
  server.on('drop', (d?: net.DropArgument) => refuse('TOO_MANY_CONNECTIONS', d?.remoteAddress, d?.remotePort));
  server.on('connection', (socket: net.Socket) => {
    if (shuttingDown) {
      refuse('SHUTTING_DOWN', socket.remoteAddress, socket.remotePort);
      socket.destroy();
      return;
    }
    if (allowList !== undefined && !allowList.allows(socket.remoteAddress)) {
      refuse('ADDRESS_NOT_ALLOWED', socket.remoteAddress, socket.remotePort);
      socket.destroy();
      return;
    }
    if (terminator === undefined) {
      accept(socket);
      return;
    }
    const key = socketKey(socket);
    handshaking.set(key, socket);
    socket.once('close', () => handshaking.delete(key));
    terminator.emit('connection', socket);
  });

  if (terminator !== undefined) {
    const expected = options.tls?.expectedSubject;
    terminator.on('secureConnection', (socket: tls.TLSSocket) => {
      handshaking.delete(socketKey(socket));
      // Checked before a data listener exists: a wrong partner never gets a byte read.
      if (!subjectAllowed(socket, expected)) {
        refuse('TLS_SUBJECT_NOT_EXPECTED', socket.remoteAddress, socket.remotePort);
        socket.destroy();
        return;
      }
      accept(socket);
    });
    terminator.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      // node rejects a bad certificate by closing after the handshake; the why is only on the socket.
      const detail = socket.authorizationError !== null && socket.authorizationError !== undefined
        ? String(socket.authorizationError)
        : (err.code ?? err.name);
      handshaking.delete(socketKey(socket));
      refuse('TLS_HANDSHAKE_FAILED', socket.remoteAddress, socket.remotePort, detail);
      socket.destroy();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err: NodeJS.ErrnoException) => log.error({ code: err.code }, 'listener error'));
  const port = (server.address() as net.AddressInfo).port;
  log.info({ host, port, tls: terminator !== undefined, framing: options.framing.name }, 'listening');

  const close = (): void => {
    if (!server.listening) return;
    server.close();
    log.info({ host, port }, 'stopped accepting');
  };

  return {
    host,
    port,
    connections,
    close,
    async closeAll({ graceMs } = {}) {
      shuttingDown = true;
      close();
      for (const socket of handshaking.values()) socket.destroy();
      await Promise.all([...connections].map((c) => c.end(graceMs)));
    },
  };
}

function socketKey(socket: net.Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}
