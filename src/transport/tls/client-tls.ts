import { isIP } from 'node:net';
import tls from 'node:tls';
import { TLS_CIPHERS } from '../../security/tls-policy.js';
import type { TlsMinVersion } from './server-tls.js';

type Pem = string | Buffer;

/** TLS for a dial-out connection: the switch presents its client certificate to the bank's host. */
export interface ClientTlsOptions {
  readonly key: Pem;
  readonly cert: Pem;
  /** The CA(s) the bank's server certificate must chain to. */
  readonly ca: Pem | readonly Pem[];
  /** Name checked against the server certificate; defaults to the host dialled. */
  readonly servername?: string;
  readonly minVersion?: TlsMinVersion;
}

/** tls.connect accepts allowHalfOpen (it passes it to the socket) though its typings leave it out. */
export type TlsConnectOptions = tls.ConnectionOptions & { allowHalfOpen: boolean };

export function clientTlsConnectOptions(host: string, port: number, options: ClientTlsOptions): TlsConnectOptions {
  const servername = options.servername ?? host;
  return {
    host,
    port,
    key: options.key,
    cert: options.cert,
    ca: Array.isArray(options.ca) ? [...(options.ca as readonly Pem[])] : (options.ca as Pem),
    minVersion: options.minVersion ?? 'TLSv1.2',
    ciphers: TLS_CIPHERS,
    rejectUnauthorized: true,
    // SNI must not carry an IP address (RFC 6066), so an IP name is checked without being sent.
    ...(isIP(servername) === 0
      ? { servername }
      : { checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(servername, cert) }),
    allowHalfOpen: true,
  };
}

/** Throws if the options do not make a secure context (a reload checks every partner before it swaps any). */
export function checkClientTls(options: ClientTlsOptions): void {
  tls.createSecureContext(clientTlsConnectOptions('localhost', 0, options));
}
