import { readFileSync } from 'node:fs';
import type { PartnerConfig } from '../../config/schema.js';
import { checkClientTls, checkServerTls, type ClientTlsOptions, type ServerTlsOptions } from '../../transport/index.js';

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

/**
 * The TLS settings of partners kept by a reload, read again and checked, all before any is applied: a file
 * that is missing or does not make a TLS context throws, and nothing changes.
 */
export function rereadTls(partners: readonly PartnerConfig[]): { id: string; listener?: ServerTlsOptions; dialOut?: ClientTlsOptions }[] {
  return partners.map((partner) => {
    const listener = partner.listener ? listenerTlsOf(partner) : undefined;
    const dialOut = partner.dialOut ? dialOutTlsOf(partner) : undefined;
    if (listener) checkServerTls(listener);
    if (dialOut) checkClientTls(dialOut);
    return { id: partner.id, ...(listener ? { listener } : {}), ...(dialOut ? { dialOut } : {}) };
  });
}
