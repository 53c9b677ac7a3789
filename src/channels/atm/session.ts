import { canonicalAcquirerId } from '../../config/acquirer-id.js';
import type { PartnerConfig } from '../../config/schema.js';
import type { MacKeyRing } from '../../security/index.js';
import type { PartnerLoad } from './partner-load.js';

/**
 * One partner connection's state, as the pipeline sees it. A connection is bound to exactly one partner
 * before any message is read (by listener, certificate or source address), so a partner can only ever
 * act as itself.
 */
export class Session {
  signedOn = false;
  inFlight = 0;
  readonly openedAt = new Date();
  private readonly acquirers: ReadonlySet<string>;
  private readonly processingCodes: ReadonlySet<string> | undefined;
  private readonly bins: readonly string[] | undefined;

  constructor(
    readonly id: string,
    readonly partner: PartnerConfig,
    readonly remoteAddress: string,
    readonly load: PartnerLoad,
    readonly direction: 'inbound' | 'dial-out' = 'inbound',
    /** Called when the sign-on state changes (metrics). */
    private readonly onSignOnChange: (signedOn: boolean) => void = () => undefined,
    /** Holds the partner's MAC keys, when it uses one (every message both ways carries a MAC); read per message. */
    private readonly keys: { readonly macKeys: MacKeyRing | undefined } = { macKeys: undefined },
  ) {
    // Already canonical in the configuration; mapped again for a PartnerConfig built by hand.
    this.acquirers = new Set(partner.acquirerIds.map(canonicalAcquirerId));
    this.processingCodes = partner.processingCodes ? new Set(partner.processingCodes) : undefined;
    this.bins = partner.bins;
  }

  /** The partner's MAC keys as they are now: a reload's key change applies to the next message. */
  get macKeys(): MacKeyRing | undefined {
    return this.keys.macKeys;
  }

  /** Whether the card is one of the partner's (its BIN list), or the partner has no BIN list. */
  issuesCard(pan: string): boolean {
    return this.bins === undefined || this.bins.some((bin) => pan.startsWith(bin));
  }

  /** Whether the acquirer (as sent: "008", "8" or zero-padded in field 90) is one of the partner's. */
  ownsAcquirer(acquirerId: string): boolean {
    return this.acquirers.has(canonicalAcquirerId(acquirerId));
  }

  /** Whether the partner's configuration allows this (already recognised as JHT) processing code. */
  allowsProcessingCode(code: string): boolean {
    return this.processingCodes === undefined || this.processingCodes.has(code);
  }

  setSignedOn(signedOn: boolean): void {
    if (signedOn === this.signedOn) return;
    this.signedOn = signedOn;
    this.onSignOnChange(signedOn);
  }

  /** Partners that need no sign-on are treated as signed on from the start. */
  get mayTransact(): boolean {
    return this.signedOn || !this.partner.signOnRequired;
  }
}
