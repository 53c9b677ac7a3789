import type { BreakerState } from '../../ledger/index.js';

/**
 * What operators can see and do with a running switch: the admin socket and the HTTP health endpoints
 * are built on this, never on the switch's internals.
 */
export interface SessionStatus {
  readonly id: string;
  readonly remote: string;
  readonly signedOn: boolean;
  readonly inFlight: number;
  readonly openedAt: string;
  /** 'inbound' (the bank connected to us) or 'dial-out' (we connected to the bank). */
  readonly direction: 'inbound' | 'dial-out';
}

export interface PartnerStatus {
  readonly id: string;
  readonly name: string;
  /** Where the partner reaches us ('host:port', 'shared', or 'dial-out host:port'). */
  readonly endpoint: string;
  readonly sessions: readonly SessionStatus[];
}

export interface SwitchStatus {
  readonly instanceId: string;
  readonly startedAt: string;
  /** False once draining or stopping. */
  readonly accepting: boolean;
  readonly listeners: readonly { host: string; port: number; partners: readonly string[] }[];
  readonly partners: readonly PartnerStatus[];
  readonly breaker: BreakerState;
  readonly journalQueueDepth: number;
  readonly inFlight: number;
}

export interface ReloadResult {
  /** Partners whose settings did not change: their connections were kept. */
  readonly kept: readonly string[];
  /** Partners added, changed (connections closed and listeners restarted) or removed. */
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

export interface SwitchControl {
  status(): SwitchStatus;
  /** Stop accepting and finish in-flight work; the process keeps running (for a controlled hand-over). */
  drain(): Promise<void>;
  /**
   * Re-reads the configuration from where it came from. A configuration that does not validate is
   * refused with a ConfigError and the running one is left untouched.
   */
  reload(): Promise<ReloadResult>;
}

