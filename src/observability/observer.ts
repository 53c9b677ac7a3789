/** Events the switch reports as they happen; metrics implement it. All calls are cheap and synchronous. */
export interface SwitchObserver {
  transaction(partnerId: string, mti: string, responseCode: string, latencySeconds: number): void;
  inFlightChanged(delta: 1 | -1): void;
  connectionOpened(partnerId: string): void;
  connectionClosed(partnerId: string): void;
  signOnChanged(partnerId: string, signedOn: boolean): void;
  /** A connection refused before any message (allow-list, TLS, limits) or a request refused for a limit. */
  refused(partnerId: string | undefined, reason: string): void;
}

export const NO_OBSERVER: SwitchObserver = {
  transaction: () => undefined,
  inFlightChanged: () => undefined,
  connectionOpened: () => undefined,
  connectionClosed: () => undefined,
  signOnChanged: () => undefined,
  refused: () => undefined,
};
