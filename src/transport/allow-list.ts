import { BlockList, isIP } from 'node:net';
import { TransportConfigError } from './errors.js';

const IPV4_MAPPED_PREFIX = '::ffff:';

/**
 * The address as a human would write it: a dual-stack listener reports IPv4 peers as IPv4-mapped
 * IPv6 (`::ffff:127.0.0.1`), which must match an IPv4 allow-list entry and read as IPv4 in logs.
 */
export function normalizeAddress(address: string): string {
  if (address.length > IPV4_MAPPED_PREFIX.length && address.slice(0, IPV4_MAPPED_PREFIX.length).toLowerCase() === IPV4_MAPPED_PREFIX) {
    const rest = address.slice(IPV4_MAPPED_PREFIX.length);
    if (isIP(rest) === 4) return rest;
  }
  return address;
}

/**
 * The peer addresses a listener accepts: single addresses or CIDR blocks, IPv4 or IPv6.
 * Matching is node's BlockList (a rule set, despite its name); this adds parsing, validation and
 * IPv4-mapped handling.
 */
export class AllowList {
  private readonly rules = new BlockList();
  readonly entries: readonly string[];

  /** @throws TransportConfigError TRANSPORT_BAD_ALLOW_LIST_ENTRY for an entry that is not an address or CIDR. */
  constructor(entries: readonly string[]) {
    this.entries = [...entries];
    for (const entry of entries) this.add(entry.trim());
  }

  allows(address: string | undefined): boolean {
    if (address === undefined) return false;
    const normalized = normalizeAddress(address);
    const family = isIP(normalized);
    if (family === 0) return false;
    return this.rules.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
  }

  private add(entry: string): void {
    const slash = entry.indexOf('/');
    const address = normalizeAddress(slash < 0 ? entry : entry.slice(0, slash));
    const family = isIP(address);
    if (family === 0) throw bad(entry, 'not an IP address');
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash < 0) {
      this.rules.addAddress(address, type);
      return;
    }
    const prefixText = entry.slice(slash + 1);
    const prefix = Number(prefixText);
    const maxPrefix = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(prefixText) || prefix > maxPrefix) throw bad(entry, `prefix length must be 0..${maxPrefix}`);
    this.rules.addSubnet(address, prefix, type);
  }
}

/**
 * A pair of entries, one from each list, that admit a common address, or undefined. CIDR blocks are either
 * nested or disjoint, so two overlap exactly when one contains the address the other is written with
 * (`10.0.0.0/8` contains `10.1.2.3`; `10.1.2.0/24` is contained by `10.0.0.0/8`, which contains 10.1.2.0).
 *
 * @throws TransportConfigError for an entry that is not an address or CIDR.
 */
export function overlappingEntries(a: readonly string[], b: readonly string[]): [string, string] | undefined {
  const addressOf = (entry: string): string => entry.trim().split('/')[0]!;
  for (const left of a) {
    const leftList = new AllowList([left]);
    for (const right of b) {
      if (leftList.allows(addressOf(right)) || new AllowList([right]).allows(addressOf(left))) return [left, right];
    }
  }
  return undefined;
}

function bad(entry: string, why: string): TransportConfigError {
  return new TransportConfigError('TRANSPORT_BAD_ALLOW_LIST_ENTRY', `allow-list entry ${JSON.stringify(entry)}: ${why}`);
}
