import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

/**
 * Throwaway certificates for tests and local development (`npm run certs`): a CA, server certificates
 * and partner client certificates whose CN is the partner id. Never for production keys.
 *
 * Keys come from node:crypto (native, milliseconds) rather than forge's pure-JS RSA generator (seconds
 * per key on a small machine); forge only assembles and signs the X.509 structures.
 */

export interface PemKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateAuthority extends PemKeyPair {
  readonly commonName: string;
}

export interface IssueOptions {
  readonly commonName: string;
  /** Server certificates carry serverAuth and the names below; client certificates carry clientAuth. */
  readonly usage: 'server' | 'client';
  /** Subject alternative names: IP addresses (127.0.0.1, ::1) and DNS names. */
  readonly altNames?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly organization?: string;
}

const DAY_MS = 86_400_000;
const DEFAULT_VALIDITY_DAYS = 825;

function newKeyPair(bits: number): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    keyPem: privateKey,
  };
}

/**
 * A positive serial in minimal DER: the first byte 0x01-0x7f. Its high bit set would read as negative; a
 * 0x00 first byte is padding, which OpenSSL 3.5 (Node 26) refuses to parse ("illegal padding") one time in 128.
 */
export function serialNumber(random: Buffer = randomBytes(16)): string {
  const bytes = Buffer.from(random);
  bytes[0] = 1 + (bytes[0]! % 0x7f);
  return bytes.toString('hex');
}

function subject(commonName: string, organization: string | undefined): forge.pki.CertificateField[] {
  const attrs: forge.pki.CertificateField[] = [{ name: 'commonName', value: commonName }];
  if (organization !== undefined) attrs.push({ name: 'organizationName', value: organization });
  return attrs;
}

function altName(name: string): { type: number; ip?: string; value?: string } {
  // GeneralName tags: 2 = dNSName, 7 = iPAddress.
  return isIP(name) !== 0 ? { type: 7, ip: name } : { type: 2, value: name };
}

/** A fresh key pair and an unsigned certificate for it: serial and validity set (from a day back, for clock skew). */
function newCertificate(validity: { notBefore?: Date | undefined; notAfter?: Date | undefined }) {
  const keys = newKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = validity.notBefore ?? new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = validity.notAfter ?? new Date(Date.now() + DEFAULT_VALIDITY_DAYS * DAY_MS);
  return { keys, cert };
}

export function createCertificateAuthority(
  commonName = 'jht-switch dev CA',
  options: { notBefore?: Date; notAfter?: Date } = {},
): CertificateAuthority {
  const { keys, cert } = newCertificate(options);
  const name = subject(commonName, 'jht-switch development');
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { commonName, certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

export function issueCertificate(ca: CertificateAuthority, options: IssueOptions): PemKeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const { keys, cert } = newCertificate(options);
  cert.setSubject(subject(options.commonName, options.organization));
  cert.setIssuer(caCert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: options.usage === 'server', clientAuth: options.usage === 'client' },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (options.altNames !== undefined && options.altNames.length > 0) {
    extensions.push({ name: 'subjectAltName', altNames: options.altNames.map(altName) });
  }
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/**
 * A certificate revocation list signed by the CA (X.509 v2 CRL, RFC 5280 5.1), listing the given certificates
 * (PEM) as revoked now; valid from a day back for `days`. forge signs certificates but has no CRL type, so the
 * structure is assembled from its ASN.1 helpers.
 */
export function createRevocationList(ca: CertificateAuthority, revoked: readonly string[], days = 30): string {
  const { asn1 } = forge;
  const { UNIVERSAL } = asn1.Class;
  const T = asn1.Type;
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const time = (date: Date) => asn1.create(UNIVERSAL, T.UTCTIME, false, asn1.dateToUtcTime(date));
  const algorithm = asn1.create(UNIVERSAL, T.SEQUENCE, true, [
    asn1.create(UNIVERSAL, T.OID, false, asn1.oidToDer(forge.pki.oids.sha256WithRSAEncryption!).getBytes()),
    asn1.create(UNIVERSAL, T.NULL, false, ''),
  ]);
  const entries = revoked.map((pem) => asn1.create(UNIVERSAL, T.SEQUENCE, true, [
    asn1.create(UNIVERSAL, T.INTEGER, false, forge.util.hexToBytes(forge.pki.certificateFromPem(pem).serialNumber)),
    time(new Date()),
  ]));
  const tbs = asn1.create(UNIVERSAL, T.SEQUENCE, true, [
    asn1.create(UNIVERSAL, T.INTEGER, false, asn1.integerToDer(1).getBytes()), // v2
    algorithm,
    forge.pki.distinguishedNameToAsn1(caCert.subject),
    time(new Date(Date.now() - DAY_MS)),
    time(new Date(Date.now() + days * DAY_MS)),
    ...(entries.length > 0 ? [asn1.create(UNIVERSAL, T.SEQUENCE, true, entries)] : []),
  ]);
  const md = forge.md.sha256.create();
  md.update(asn1.toDer(tbs).getBytes());
  const signature = caKey.sign(md);
  const crl = asn1.create(UNIVERSAL, T.SEQUENCE, true, [tbs, algorithm, asn1.create(UNIVERSAL, T.BITSTRING, false, String.fromCharCode(0) + signature)]);
  return forge.pem.encode({ type: 'X509 CRL', body: asn1.toDer(crl).getBytes() });
}
