import net from 'node:net';
import type tls from 'node:tls';
import { silentLogger } from '../observability/logger.js';
import { AllowList, normalizeAddress } from './allow-list.js';
import { Connection } from './connection.js';
import type { ConnectionOptions, MessageHandler } from './connection-types.js';
import { PROXY_V2_SIGNATURE, readProxyHeader, type ProxiedAddress } from './proxy-protocol.js';
import { RefusalLog } from './refusal-log.js';
import { createTlsTerminator, replaceSecureContext, TlsIdentity, type ServerTlsOptions } from './tls/server-tls.js';

export type RefusalReason =
  | 'ADDRESS_NOT_ALLOWED'
  | 'TOO_MANY_CONNECTIONS'
  /** No certificate, another CA, expired, TLS < 1.2, handshake timeout … `detail` has node's code. */
  | 'TLS_HANDSHAKE_FAILED'
  | 'TLS_SUBJECT_NOT_EXPECTED'
  /** The right name, but not issued by the partner's CA (expectedIssuers). */
  | 'TLS_ISSUER_NOT_EXPECTED'
  /** A trusted proxy's connection without a PROXY v2 header (or not within the deadline). */
  | 'PROXY_HEADER_MISSING'
  | 'PROXY_HEADER_INVALID'
  /** A PROXY header from a peer that is not a trusted proxy: it would choose its own address. */
  | 'PROXY_HEADER_UNTRUSTED'
  | 'SHUTTING_DOWN';

/** A peer turned away before any of its ISO 8583 bytes was read. */
export interface Refusal {
  readonly reason: RefusalReason;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly detail?: string;
  /** The proxy the connection came through, when it carried a PROXY header. */
  readonly via?: string;
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
  /** Load balancers that send PROXY protocol v2: from them the header is required and its address is the peer's. */
  readonly trustedProxies?: readonly string[];
  /** How long the opening bytes (a PROXY header) may take. Default 10 s. */
  readonly preambleDeadlineMs?: number;
  /** Where refusals are logged, rate-limited; shared by a switch's listeners. Default: one per listener, 10 s. */
  readonly refusalLog?: RefusalLog;
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
  /**
   * New certificate, key, CAs, CRLs and expected identity for handshakes from now on (reload); open sessions
   * keep theirs. @throws for files that do not make a TLS context (the old one stays).
   */
  updateTls(tls: ServerTlsOptions): void;
}

/** A connection relayed by a trusted proxy: the client's address, and the proxy's. */
interface Proxied {
  readonly source: ProxiedAddress;
  readonly via: string;
}

const DEFAULT_PREAMBLE_DEADLINE_MS = 10_000;
const DEFAULT_REFUSAL_LOG_INTERVAL_MS = 10_000;

export async function startListener(options: ListenerOptions): Promise<Listener> {
  const log = (options.logger ?? silentLogger()).child({ listener: options.port });
  const host = options.host ?? '127.0.0.1';
  const allowList = options.allowList !== undefined ? new AllowList(options.allowList) : undefined;
  const proxies = new AllowList(options.trustedProxies ?? []);
  const preambleDeadlineMs = options.preambleDeadlineMs ?? DEFAULT_PREAMBLE_DEADLINE_MS;
  const refusalLog = options.refusalLog ?? new RefusalLog(log, DEFAULT_REFUSAL_LOG_INTERVAL_MS);
  const terminator = options.tls !== undefined ? createTlsTerminator(options.tls) : undefined;
  let identity = new TlsIdentity(options.tls ?? {});
  const connections = new Set<Connection>();
  /** A trusted proxy's sockets while their PROXY header is read. */
  const opening = new Set<net.Socket>();
  /** Sockets in their TLS handshake by remote address:port (the TLS socket reports the same), with the client a proxied one speaks for. */
  const handshaking = new Map<string, { raw: net.Socket; proxied: Proxied | undefined }>();
  let shuttingDown = false;

  const refuse = (reason: RefusalReason, remoteAddress: string | undefined, remotePort: number | undefined, detail?: string, via?: string): void => {
    const refusal: Refusal = {
      reason,
      remoteAddress: normalizeAddress(remoteAddress ?? 'unknown'),
      remotePort: remotePort ?? 0,
      ...(detail !== undefined ? { detail } : {}),
      ...(via !== undefined ? { via } : {}),
    };
    refusalLog.record(refusal);
    options.onRefused?.(refusal);
  };

  const accept = (socket: net.Socket, proxied: Proxied | undefined): void => {
    // A direct peer cannot pick its address: a PROXY header from it is refused, not read as a frame.
    const connection = new Connection(socket, proxied ? options : { ...options, refusedOpening: PROXY_V2_SIGNATURE }, proxied?.source);
    connections.add(connection);
    void connection.closed.then((info) => {
      connections.delete(connection);
      if (info.reason === 'REFUSED_OPENING') refuse('PROXY_HEADER_UNTRUSTED', connection.peer.remoteAddress, connection.peer.remotePort);
    });
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

  /** After the preamble: the allow-list on the client's address (the proxied one), then TLS or framing. */
  const admit = (socket: net.Socket, proxied: Proxied | undefined): void => {
    const address = proxied?.source.address ?? socket.remoteAddress;
    const port = proxied?.source.port ?? socket.remotePort;
    if (allowList !== undefined && !allowList.allows(address)) {
      refuse('ADDRESS_NOT_ALLOWED', address, port, undefined, proxied?.via);
      socket.destroy();
      return;
    }
    if (terminator === undefined) {
      accept(socket, proxied);
      return;
    }
    const key = socketKey(socket);
    handshaking.set(key, { raw: socket, proxied });
    socket.once('close', () => handshaking.delete(key));
    terminator.emit('connection', socket);
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
    const trusted = proxies.allows(socket.remoteAddress);
    if (!trusted) {
      admit(socket, undefined);
      return;
    }
    const via = normalizeAddress(socket.remoteAddress ?? 'unknown');
    socket.on('error', () => undefined); // until a Connection or TLS owns it; a reset here is only a close
    opening.add(socket);
    socket.once('close', () => opening.delete(socket));
    void readProxyHeader(socket, preambleDeadlineMs).then((preamble) => {
      opening.delete(socket);
      if (shuttingDown || socket.destroyed) return socket.destroy();
      if (preamble.kind === 'refused') {
        refuse(preamble.reason, socket.remoteAddress, socket.remotePort, preamble.detail);
        return socket.destroy();
      }
      // LOCAL is the proxy's own health check: the connection is the proxy's, as if direct.
      admit(socket, preamble.header.command === 'PROXY' ? { source: preamble.header.source, via } : undefined);
    });
  });

  if (terminator !== undefined) {
    terminator.on('secureConnection', (socket: tls.TLSSocket) => {
      const proxied = handshaking.get(socketKey(socket))?.proxied;
      handshaking.delete(socketKey(socket));
      // Checked before a data listener exists: a wrong partner never gets a byte read.
      const problem = identity.problem(socket);
      if (problem) {
        refuse(problem, proxied?.source.address ?? socket.remoteAddress, proxied?.source.port ?? socket.remotePort, undefined, proxied?.via);
        socket.destroy();
        return;
      }
      accept(socket, proxied);
    });
    terminator.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      // node rejects a bad certificate by closing after the handshake; the why is only on the socket.
      const detail = socket.authorizationError !== null && socket.authorizationError !== undefined
        ? String(socket.authorizationError)
        : (err.code ?? err.name);
      const proxied = handshaking.get(socketKey(socket))?.proxied;
      handshaking.delete(socketKey(socket));
      refuse('TLS_HANDSHAKE_FAILED', proxied?.source.address ?? socket.remoteAddress, proxied?.source.port ?? socket.remotePort, detail, proxied?.via);
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
      for (const socket of opening) socket.destroy();
      for (const { raw } of handshaking.values()) raw.destroy();
      await Promise.all([...connections].map((c) => c.end(graceMs)));
    },
    updateTls(next) {
      if (terminator === undefined) throw new Error('updateTls: this listener has no TLS');
      const nextIdentity = new TlsIdentity(next);
      replaceSecureContext(terminator, next);
      identity = nextIdentity;
    },
  };
}

function socketKey(socket: net.Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}
