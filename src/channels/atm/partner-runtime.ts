import { ConfigError } from '../../config/config-error.js';
import type { PartnerConfig, SwitchConfig } from '../../config/schema.js';
import { Packager, loadProfile, type IsoMessage } from '../../iso8583/index.js';
import { MacKeyError, loadMacKeys, signMessage, type MacKey, type MacKeyRing } from '../../security/index.js';
import { KeyLoadError } from '../../security/keys/index.js';
import type { Connection } from '../../transport/index.js';
import type { PartnerStatus } from './control.js';
import { PartnerLoad } from './partner-load.js';
import type { Session } from './session.js';

/** One packager per profile for the whole process: packing is synchronous, so its scratch space is safe to share. */
const packagers = new Map<string, Packager>();
export function packagerFor(profile: string): Packager {
  let packager = packagers.get(profile);
  if (!packager) packagers.set(profile, (packager = new Packager(loadProfile(profile))));
  return packager;
}

/**
 * Each partner's MAC keys, read from their files (or credential, or variable) and checked against their KCVs.
 * @throws ConfigError naming the partner, never a key.
 */
export function partnerMacKeys(config: SwitchConfig): Map<string, MacKeyRing | undefined> {
  return new Map(config.partners.map((partner, index) => {
    if (partner.mac.algorithm === 'none') return [partner.id, undefined];
    try {
      return [partner.id, loadMacKeys(partner.id, partner.mac)];
    } catch (error) {
      if (error instanceof KeyLoadError || error instanceof MacKeyError) {
        throw new ConfigError('configuration', `partner "${partner.id}" (partners[${index}]): mac`, `${error.message} (${error.code})`);
      }
      throw error;
    }
  }));
}

/** Everything but the MAC keys' files and check values: what a key change must leave alone. */
function withoutMacKeys(config: PartnerConfig): string {
  return JSON.stringify({ ...config, mac: config.mac.algorithm });
}

/**
 * A partner as the running switch holds it: its settings, load counters and live sessions. Sessions read
 * the MAC keys from here at every message, so a key change (rekey) reaches the live connections.
 */
export class PartnerRuntime {
  readonly load: PartnerLoad;
  readonly packager: Packager;
  readonly sessions = new Map<Session, Connection>();
  #config: PartnerConfig;
  #macKeys: MacKeyRing | undefined;
  #settings: string;

  constructor(config: PartnerConfig, macKeys: MacKeyRing | undefined) {
    this.load = new PartnerLoad(config.limits.maxInFlight, config.limits.requestsPerSecond);
    this.packager = packagerFor(config.profile);
    this.#config = config;
    this.#macKeys = macKeys;
    this.#settings = JSON.stringify(config);
  }

  get config(): PartnerConfig {
    return this.#config;
  }

  /** The partner's MAC keys (current, and previous during a key change); undefined without a MAC. */
  get macKeys(): MacKeyRing | undefined {
    return this.#macKeys;
  }

  /** Whether a reloaded configuration leaves this partner exactly as it is. */
  sameSettings(other: PartnerConfig): boolean {
    return JSON.stringify(other) === this.#settings;
  }

  /** Whether `other` differs from the running settings in the MAC keys only (both with a MAC). */
  differsInMacKeysOnly(other: PartnerConfig): boolean {
    return this.#config.mac.algorithm !== 'none' && other.mac.algorithm !== 'none' && withoutMacKeys(other) === withoutMacKeys(this.#config);
  }

  /** A key change: the new keys apply to the next message of every live session, none is dropped. */
  rekey(config: PartnerConfig, macKeys: MacKeyRing): void {
    this.#config = config;
    this.#macKeys = macKeys;
    this.#settings = JSON.stringify(config);
  }

  /**
   * Packs a message for this partner, with its MAC when the partner uses one: under `key` (the key that
   * verified the request being answered), by default the current key.
   */
  pack(message: IsoMessage, key: MacKey | undefined = this.#macKeys?.current): Buffer {
    return key ? signMessage(message, this.packager, key) : this.packager.pack(message);
  }

  status(endpoint: string): PartnerStatus {
    return {
      id: this.config.id,
      name: this.config.name,
      endpoint,
      sessions: [...this.sessions.keys()].map((s) => ({
        id: s.id,
        remote: s.remoteAddress,
        signedOn: s.signedOn,
        inFlight: s.inFlight,
        openedAt: s.openedAt.toISOString(),
        direction: s.direction,
      })),
    };
  }

  /** Ends every session gracefully: in-flight requests are answered first. */
  async endSessions(graceMs: number): Promise<void> {
    await Promise.all([...this.sessions.values()].map((c) => c.end(graceMs)));
  }
}
