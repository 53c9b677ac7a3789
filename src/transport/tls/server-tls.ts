import tls from 'node:tls';
import { TransportConfigError } from '../errors.js';
import { certificateSubjectCn } from '../peer.js';

type Pem = string | Buffer;
export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

/** Mutual TLS for a partner listener. Client certificates are always requested and always verified. */
export interface ServerTlsOptions {
  readonly key: Pem;
  readonly cert: Pem;
  /** The CA(s) partner client certificates must chain to. */
  readonly ca: Pem | readonly Pem[];
  /** Fixed: present only so a config may state it; anything but true is refused. */
  readonly requestCert?: true;
  readonly rejectUnauthorized?: true;
  /** TLS 1.2 unless raised to 1.3; older versions are never negotiated. */
  readonly minVersion?: TlsMinVersion;
  /** Client certificate CN(s) accepted on this listener: the partner id(s). Unset: any CN the CA signed. */
  readonly expectedSubject?: string | readonly string[];
  /** A client that has not finished its handshake by then is dropped. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The TLS half of a listener: a tls.Server that never listens itself. The TCP listener hands it each
 * accepted socket (after the allow-list and connection-limit checks) and gets back verified sockets.
 * node's verification (requestCert + rejectUnauthorized) refuses a missing certificate, another CA or
 * an expired certificate during the handshake; the CN check is done by the caller with `subjectAllowed`.
 */
export function createTlsTerminator(options: ServerTlsOptions): tls.Server {
  return tls.createServer(serverTlsOptions(options));
}

/**
 * The checked node TLS options of a mutual-TLS listener, for a server that terminates TLS itself (the REST
 * channel's https server): the same rules as {@link createTlsTerminator}.
 */
export function serverTlsOptions(options: ServerTlsOptions): tls.TlsOptions {
  // Loosening these must be a code change, not a config typo: a partner listener without client auth
  // would answer balance inquiries to anyone who can reach the port.
  const loose = options as { requestCert?: unknown; rejectUnauthorized?: unknown };
  if ((loose.requestCert !== undefined && loose.requestCert !== true) || (loose.rejectUnauthorized !== undefined && loose.rejectUnauthorized !== true)) {
    throw new TransportConfigError('TRANSPORT_BAD_OPTION', 'partner listeners require client certificates (requestCert and rejectUnauthorized must be true)');
  }
  const minVersion = options.minVersion ?? 'TLSv1.2';
  if (minVersion !== 'TLSv1.2' && minVersion !== 'TLSv1.3') {
    throw new TransportConfigError('TRANSPORT_BAD_OPTION', `TLS minVersion must be TLSv1.2 or TLSv1.3, not ${String(minVersion)}`);
  }
  return {
    key: options.key,
    cert: options.cert,
    ca: Array.isArray(options.ca) ? [...(options.ca as readonly Pem[])] : (options.ca as Pem),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion,
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    allowHalfOpen: true,
  };
}

/** Whether a verified peer's certificate CN is one this listener expects. */
export function subjectAllowed(socket: tls.TLSSocket, expected: string | readonly string[] | undefined): boolean {
  if (expected === undefined) return true;
  const cn = certificateSubjectCn(socket);
  if (cn === undefined) return false;
  return typeof expected === 'string' ? cn === expected : expected.includes(cn);
}
