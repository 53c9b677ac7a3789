import { z } from 'zod';
import { AllowList } from '../transport/allow-list.js';

/**
 * The rule for every link the switch opens or listens on (PCI DSS 4.2.1): outside loopback it is TLS, or it
 * says why not. `insecure: { reason }` is for a private circuit the bank and the operator both control; the
 * reason is logged at every start, and a partner on such a link must use a MAC.
 */
export const insecureSchema = z.object({
  reason: z.string().trim().min(1, 'must say why the link may run without TLS'),
}).strict();

export type InsecureException = z.output<typeof insecureSchema>;

/** One listener or dial-out as the rule sees it. */
export interface LinkEndpoint {
  /** Where a listener binds, or the host a dial-out connects to. */
  readonly host: string;
  readonly kind: 'listener' | 'dial-out';
  readonly tls: boolean;
  readonly insecure?: InsecureException | undefined;
}

const LOOPBACK = new AllowList(['127.0.0.0/8', '::1']);

/** Only literal loopback addresses and `localhost` count: a name could resolve anywhere, 0.0.0.0 is every interface. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase() === 'localhost' || LOOPBACK.allows(bare);
}

/**
 * Why the endpoint may not run as configured, or undefined. A listener on loopback may be plaintext; a
 * dial-out never is without TLS or an exception, since nothing else authenticates the host it reaches.
 */
export function linkSecurityProblem(link: LinkEndpoint): string | undefined {
  if (link.tls || link.insecure !== undefined) return undefined;
  if (link.kind === 'listener' && isLoopbackHost(link.host)) return undefined;
  return link.kind === 'listener'
    ? 'a listener outside loopback needs TLS, or insecure: { reason: "..." } for a private circuit'
    : 'a dial-out needs TLS, or insecure: { reason: "..." } for a private circuit';
}

/** Whether the link runs in clear by exception (then it must be logged, and a partner on it must use a MAC). */
export function isInsecureException(link: LinkEndpoint): boolean {
  return !link.tls && link.insecure !== undefined;
}
