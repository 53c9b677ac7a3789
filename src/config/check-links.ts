import type { Logger } from '../observability/logger.js';
import { ConfigError } from './config-error.js';
import { isInsecureException, linkSecurityProblem, type LinkEndpoint } from './link-security.js';
import type { PartnerConfig, SwitchConfig } from './schema.js';

/** A link of the configuration, with the key that holds it (for the error) and the partners it carries. */
export interface ConfiguredLink extends LinkEndpoint {
  readonly key: string;
  readonly partners: readonly PartnerConfig[];
}

/** Every listener and dial-out of a configuration, the shared listener only when some partner uses it. */
export function configuredLinks(config: SwitchConfig): ConfiguredLink[] {
  const links: ConfiguredLink[] = [];
  const shared = config.partners.filter((p) => !p.listener && !p.dialOut);
  if (shared.length > 0) {
    links.push({ key: 'listen', kind: 'listener', host: config.listen.host, tls: false, insecure: config.listen.insecure, partners: shared });
  }
  config.partners.forEach((partner, index) => {
    const at = `partner "${partner.id}" (partners[${index}])`;
    if (partner.listener) {
      links.push({ key: `${at}: listener`, kind: 'listener', host: partner.listener.host, tls: partner.tls !== undefined, insecure: partner.listener.insecure, partners: [partner] });
    }
    if (partner.dialOut) {
      links.push({ key: `${at}: dialOut`, kind: 'dial-out', host: partner.dialOut.host, tls: partner.tls !== undefined, insecure: partner.dialOut.insecure, partners: [partner] });
    }
  });
  const { metrics } = config;
  if (metrics.enabled) {
    links.push({ key: 'metrics', kind: 'listener', host: metrics.host, tls: metrics.tls !== undefined, insecure: metrics.insecure, partners: [] });
  }
  return links;
}

/**
 * Refuses a plaintext link outside loopback without `insecure: { reason }`, and a partner on such an exception
 * without a MAC. The error names the key, never a value.
 * @throws ConfigError
 */
export function checkLinks(config: SwitchConfig, source: string): void {
  config.partners.forEach((partner, index) => {
    if (partner.listener && partner.tls && partner.tls.clientSubject === undefined) {
      throw new ConfigError(source, `partner "${partner.id}" (partners[${index}]): tls.clientSubject`, 'a mutual-TLS listener must name the partner\'s certificate identity');
    }
  });
  for (const link of configuredLinks(config)) {
    const problem = linkSecurityProblem(link);
    if (problem) throw new ConfigError(source, link.key, problem);
    if (!isInsecureException(link)) continue;
    const unsigned = link.partners.find((p) => p.mac.algorithm === 'none');
    if (unsigned) {
      const index = config.partners.indexOf(unsigned);
      throw new ConfigError(source, `partner "${unsigned.id}" (partners[${index}]): mac`, `runs on a plaintext link by exception (${link.key}: insecure), so it needs a MAC`);
    }
  }
}

/** Every start says which links run in clear by exception, and why, so the exception is never forgotten. */
export function warnInsecureLinks(config: SwitchConfig, log: Logger): void {
  for (const link of configuredLinks(config)) {
    if (!isInsecureException(link)) continue;
    log.warn({ link: link.key, host: link.host, reason: link.insecure!.reason }, 'plaintext link by exception (insecure): no TLS on this link');
  }
}
