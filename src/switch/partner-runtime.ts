import type { PartnerConfig } from '../config/schema.js';
import { Packager, loadProfile, type IsoMessage } from '../iso8583/index.js';
import { MacKey, signMessage } from '../security/index.js';
import type { Connection } from '../transport/index.js';
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

/** A partner as the running switch holds it: its settings, load counters and live sessions. */
export class PartnerRuntime {
  readonly load: PartnerLoad;
  readonly packager: Packager;
  readonly sessions = new Map<Session, Connection>();
  readonly macKey: MacKey | undefined;
  private readonly settings: string;

  constructor(readonly config: PartnerConfig) {
    this.load = new PartnerLoad(config.limits.maxInFlight, config.limits.requestsPerSecond);
    this.macKey = config.mac.algorithm === 'x9.19' ? MacKey.fromSettings(config.mac) : undefined;
    this.packager = packagerFor(config.profile);
    this.settings = JSON.stringify(config);
  }

  /** Whether a reloaded configuration leaves this partner exactly as it is. */
  sameSettings(other: PartnerConfig): boolean {
    return JSON.stringify(other) === this.settings;
  }

  /** Packs a message for this partner, with its MAC when the partner uses one. */
  pack(message: IsoMessage): Buffer {
    return this.macKey ? signMessage(message, this.packager, this.macKey) : this.packager.pack(message);
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
