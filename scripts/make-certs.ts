/**
 * Development certificates for mutual TLS (`npm run certs`): a throwaway CA, a server certificate for
 * 127.0.0.1 / ::1 / localhost and the demo partner's client certificate (CN = partner id `demo`).
 * FOR DEVELOPMENT ONLY: see certs/README.md for how a real partner is onboarded.
 *
 *   npm run certs                     # writes into certs/
 *   npm run certs -- --out DIR        # elsewhere
 *   npm run certs -- --force          # replaces existing files
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCertificateAuthority, issueCertificate } from '../src/transport/tls/dev-certificates.js';

const DEFAULT_OUT = resolve(dirname(fileURLToPath(import.meta.url)), '../certs');
const DEMO_PARTNER_ID = 'demo';
const SERVER_NAMES = ['127.0.0.1', '::1', 'localhost'];
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;
const KEY_MODE = 0o600;
const CERT_MODE = 0o644;

const USAGE = `usage: npm run certs -- [--out DIR] [--force]

Writes a development CA, a server certificate for ${SERVER_NAMES.join(', ')} and the demo partner's
client certificate (CN "${DEMO_PARTNER_ID}") into DIR (default: certs/). Keys are written 0600.
Existing files are left alone unless --force is given. Never use these in production.`;

/** The files, in the order they are written and printed. */
const FILES = {
  caCert: 'ca.cert.pem',
  caKey: 'ca.key.pem',
  serverCert: 'server.cert.pem',
  serverKey: 'server.key.pem',
  partnerCert: 'demo-partner.cert.pem',
  partnerKey: 'demo-partner.key.pem',
} as const;

class UsageError extends Error {}

function options(argv: string[]): { out: string; force: boolean } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { out: { type: 'string' }, force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help === true) return 'help';
  const out = parsed.values.out;
  if (out === '') throw new UsageError('--out needs a directory');
  return { out: out === undefined ? DEFAULT_OUT : resolve(out), force: parsed.values.force === true };
}

/** Paths under the working directory as relative ones, others in full. */
function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function describeCertificate(pem: string): string {
  const cert = new X509Certificate(pem);
  const subject = cert.subject.split('\n').join(', ');
  const names = cert.subjectAltName ? `; ${cert.subjectAltName}` : '';
  return `${subject}${names}; valid until ${new Date(cert.validTo).toISOString().slice(0, 10)}; SHA-256 ${cert.fingerprint256}`;
}

function main(argv: string[]): number {
  let opts;
  try {
    opts = options(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (opts === 'help') {
    console.log(USAGE);
    return 0;
  }
  const { out, force } = opts;
  const shown = (file: string): string => display(join(out, file));
  const existing = Object.values(FILES).filter((file) => existsSync(join(out, file)));
  if (existing.length > 0 && !force) {
    console.error(`error: ${existing.map(shown).join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing written (use --force to replace)`);
    return EXIT_REFUSED;
  }

  const ca = createCertificateAuthority('jht-switch dev CA');
  const server = issueCertificate(ca, { commonName: 'localhost', usage: 'server', altNames: SERVER_NAMES, organization: 'jht-switch development' });
  const partner = issueCertificate(ca, { commonName: DEMO_PARTNER_ID, usage: 'client', organization: 'Demo Bank (development)' });
  const contents: Record<keyof typeof FILES, string> = {
    caCert: ca.certPem, caKey: ca.keyPem,
    serverCert: server.certPem, serverKey: server.keyPem,
    partnerCert: partner.certPem, partnerKey: partner.keyPem,
  };

  mkdirSync(out, { recursive: true });
  console.log(`Development certificates (NOT for production) in ${display(out)}:`);
  for (const [what, file] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
    const path = join(out, file);
    const secret = what.endsWith('Key');
    const mode = secret ? KEY_MODE : CERT_MODE;
    // 'wx' fails rather than replace a file that appeared since the check above.
    writeFileSync(path, contents[what], { mode, flag: force ? 'w' : 'wx' });
    chmodSync(path, mode); // writeFileSync's mode applies only to a file it creates
    const detail = secret ? 'RSA 2048 private key (PKCS#8), mode 0600' : describeCertificate(contents[what]);
    console.log(`  ${file.padEnd(22)} ${detail}`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
