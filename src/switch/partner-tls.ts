import { readFileSync } from 'node:fs';
import type { PartnerConfig } from '../config/schema.js';
import type { ClientTlsOptions, ServerTlsOptions } from '../transport/index.js';

/**
 * A partner's TLS settings with its files read: at start, and again on every reload, so that a certificate,
 * key, CA or CRL replaced in place takes effect for new handshakes without a restart.
 */
export function listenerTlsOf(partner: PartnerConfig): ServerTlsOptions | undefined {
  const tls = partner.tls;
  if (!tls) return undefined;
  return {
    key: readFileSync(tls.keyFile),
    cert: readFileSync(tls.certFile),
    ca: readFileSync(tls.caFile),
    ...(tls.crlFile !== undefined ? { crl: readFileSync(tls.crlFile) } : {}),
    ...(tls.clientSubject !== undefined ? { expectedSubject: tls.clientSubject } : {}),
    ...(tls.clientIssuerFile !== undefined ? { expectedIssuers: readFileSync(tls.clientIssuerFile) } : {}),
    minVersion: 'TLSv1.2',
  };
}

export function dialOutTlsOf(partner: PartnerConfig): ClientTlsOptions | undefined {
  const tls = partner.tls;
  if (!tls) return undefined;
  return { key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile), ca: readFileSync(tls.caFile) };
}
