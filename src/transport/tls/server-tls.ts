import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { TransportConfigError } from '../errors.js';
import { certificateSubjectCn } from '../peer.js';
import { TLS_CIPHERS } from '../../security/tls-policy.js';

type Pem = string | Buffer;
export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

/** Mutual TLS for a partner listener. Client certificates are always requested and always verified. */
export interface ServerTlsOptions {
  readonly key: Pem;
  readonly cert: Pem;
  /** The CA(s) partner client certificates must chain to. */
  readonly ca: Pem | readonly Pem[];
  /** Certificate revocation lists (PEM), one per CA: a revoked client certificate fails the handshake. */
  readonly crl?: Pem | readonly Pem[];
  /** Fixed: present only so a config may state it; anything but true is refused. */
  readonly requestCert?: true;
  readonly rejectUnauthorized?: true;
  /** TLS 1.2 unless raised to 1.3; older versions are never negotiated. */
  readonly minVersion?: TlsMinVersion;
  /**
   * The partner identity(ies) accepted on this listener: a client certificate's subject CN, or one of its DNS
   * or URI subject alternative names. Unset: any certificate the CA signed.
   */
  readonly expectedSubject?: string | readonly string[];
  /**
   * The CA certificate(s) one of which must have issued the client certificate itself (PEM, may hold several).
   * Unset: any CA in `ca`. With a CA bundle, this keeps another CA's certificate with the right CN out.
   */
  readonly expectedIssuers?: Pem;
  /** A client that has not finished its handshake by then is dropped. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
}

export type IdentityProblem = 'TLS_SUBJECT_NOT_EXPECTED' | 'TLS_ISSUER_NOT_EXPECTED';

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const asList = (value: Pem | readonly Pem[]): Pem[] => (Array.isArray(value) ? [...(value as readonly Pem[])] : [value as Pem]);

function checkFixedOptions(options: ServerTlsOptions): TlsMinVersion {
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
  return minVersion;
}

/** The secure-context half of the options: what a reload replaces (certificate, key, CAs, CRLs). */
function secureContextOptions(options: ServerTlsOptions): tls.SecureContextOptions {
  return {
    key: options.key,
    cert: options.cert,
    ca: asList(options.ca),
    ...(options.crl !== undefined ? { crl: asList(options.crl) } : {}),
    minVersion: checkFixedOptions(options),
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true,
  };
}

/** Who may connect: checked on each verified socket; replaced, with the secure context, on reload. */
export class TlsIdentity {
  private readonly subjects: readonly string[] | undefined;
  private readonly issuers: readonly X509Certificate[] | undefined;

  constructor(options: Pick<ServerTlsOptions, 'expectedSubject' | 'expectedIssuers'>) {
    const expected = options.expectedSubject;
    this.subjects = expected === undefined ? undefined : typeof expected === 'string' ? [expected] : [...expected];
    if (options.expectedIssuers !== undefined) {
      const pems = String(options.expectedIssuers).match(PEM_CERTIFICATE) ?? [];
      if (pems.length === 0) throw new TransportConfigError('TRANSPORT_BAD_OPTION', 'expectedIssuers holds no PEM certificate');
      this.issuers = pems.map((pem) => new X509Certificate(pem));
    }
  }

  /** Why a verified peer is not the partner this listener expects, or undefined. */
  problem(socket: tls.TLSSocket): IdentityProblem | undefined {
    if (this.subjects !== undefined && !this.subjects.some((s) => namesOf(socket).includes(s))) return 'TLS_SUBJECT_NOT_EXPECTED';
    if (this.issuers !== undefined) {
      const leaf = socket.getPeerX509Certificate();
      // checkIssued compares names; verify proves the issuer's key signed it, so a look-alike CA does not pass.
      if (!leaf || !this.issuers.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey))) return 'TLS_ISSUER_NOT_EXPECTED';
    }
    return undefined;
  }
}

/** The certificate's subject CN, then its DNS and URI subject alternative names. */
function namesOf(socket: tls.TLSSocket): string[] {
  const names: string[] = [];
  const cn = certificateSubjectCn(socket);
  if (cn !== undefined) names.push(cn);
  const san = socket.getPeerCertificate().subjectaltname ?? '';
  for (const entry of san.split(', ')) {
    const colon = entry.indexOf(':');
    const type = entry.slice(0, colon);
    if (type === 'DNS' || type === 'URI') names.push(entry.slice(colon + 1));
  }
  return names;
}

/**
 * The checked node TLS options of a mutual-TLS listener: the policy's versions and suites, client certificates
 * required and verified. For the ISO listeners' terminator below and for a server that terminates TLS itself
 * (the REST channel's https server).
 */
export function serverTlsOptions(options: ServerTlsOptions): tls.TlsOptions {
  return {
    ...secureContextOptions(options),
    requestCert: true,
    rejectUnauthorized: true,
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  };
}

/**
 * The TLS half of a listener: a tls.Server that never listens itself. The TCP listener hands it each
 * accepted socket (after the allow-list and connection-limit checks) and gets back verified sockets.
 * node's verification (requestCert + rejectUnauthorized) refuses a missing certificate, another CA, an
 * expired or revoked certificate during the handshake; the identity is checked by the caller (TlsIdentity).
 */
export function createTlsTerminator(options: ServerTlsOptions): tls.Server {
  return tls.createServer({ ...serverTlsOptions(options), allowHalfOpen: true });
}

/**
 * A certificate, key, CA or CRL replaced on disk takes effect for new handshakes; sessions already open keep
 * theirs. Throws (leaving the old context in place) for files that do not make a context.
 */
export function replaceSecureContext(terminator: tls.Server, options: ServerTlsOptions): void {
  const context = secureContextOptions(options);
  tls.createSecureContext(context); // throws first, before anything is replaced
  terminator.setSecureContext(context);
}

/** Throws if the options do not make a secure context and an identity: a reload checks every partner first. */
export function checkServerTls(options: ServerTlsOptions): void {
  tls.createSecureContext(secureContextOptions(options));
  new TlsIdentity(options);
}
