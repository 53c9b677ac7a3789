import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';

/**
 * An external PostgreSQL off this host is reached over TLS that verifies the server (sslmode=verify-full:
 * the CA in sslrootcert, the host name in the certificate), or not at all: the ledger and its credentials
 * cross the network otherwise, readable and spoofable. Loopback and Unix sockets stay on this machine.
 * Returns the reason for refusing `url`, or undefined when it is acceptable.
 */
export function databaseUrlProblem(url: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a postgresql:// URL';
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') return 'must be a postgresql:// URL';
  // pg takes the host from ?host= first, then the URL, then PGHOST, then localhost.
  const host = parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || env.PGHOST || 'localhost');
  if (isLocal(host)) return undefined;
  if (parsed.searchParams.get('sslmode') !== 'verify-full') {
    return `${host} is not on this machine: add sslmode=verify-full and sslrootcert=<CA file> (TLS that verifies the server)`;
  }
  const rootCert = parsed.searchParams.get('sslrootcert');
  if (!rootCert) return `${host} is not on this machine: sslmode=verify-full needs sslrootcert=<CA file>`;
  try {
    accessSync(rootCert, constants.R_OK);
  } catch {
    return `sslrootcert ${rootCert} cannot be read`;
  }
  return undefined;
}

function isLocal(host: string): boolean {
  if (host.startsWith('/')) return true; // a Unix socket directory
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}
