import type { PartnerConfig, SwitchConfig } from '../../config/schema.js';
import type { JournalWriter } from '../../journal/index.js';
import type { Logger } from '../../observability/logger.js';
import {
  AllowList, createFraming, RefusalLog, startDialer, startListener,
  type ClientTlsOptions, type Connection, type Dialer, type Listener, type MessageHandler, type ServerTlsOptions,
} from '../../transport/index.js';
import { createConnectionHandler } from './connection-handler.js';
import type { SwitchObserver } from '../../observability/observer.js';
import type { PartnerStatus, ReloadResult } from './control.js';
import type { DialOutLeadership } from './dial-out-leader.js';
import { keepDialOutAlive } from './dial-out.js';
import { OutboundRequests } from './outbound-requests.js';
import { PartnerRuntime, partnerMacKeys } from './partner-runtime.js';
import { dialOutTlsOf, listenerTlsOf, rereadTls } from './partner-tls.js';
import { Session } from './session.js';
import { UnsignedConnections } from './unsigned-connections.js';
import type { SwitchServices } from './transaction.js';

export interface PartnerNetworkDeps {
  readonly services: SwitchServices;
  readonly journal: JournalWriter;
  readonly log: Logger;
  readonly observer: SwitchObserver;
  /** Elects, among the instances on one database, the one that dials each dial-out link. */
  readonly leadership: DialOutLeadership;
}

/** Reading pauses beyond this multiple of a partner's in-flight limit: over the limit it is answered 97. */
const READ_AHEAD = 2;
const NO_HANDLER: MessageHandler = { onMessage: () => null };

/** A graceful end for a connection past its sign-on deadline: short, since nothing is owed to it. */
const DEADLINE_END_GRACE_MS = 1_000;

/** Partners without a listener or dial-out of their own share the main listener and are known by address. */
function onSharedListener(partner: PartnerConfig): boolean {
  return !partner.listener && !partner.dialOut;
}

/**
 * The switch's side of every partner link: the shared listener, each partner's own listener (framing,
 * profile, mutual TLS, allow-list, limits) and each dial-out connection. A reload swaps partners whose
 * settings changed and keeps the connections of those that did not.
 */
export class PartnerNetwork {
  private readonly partners = new Map<string, PartnerRuntime>();
  private shared: Listener | undefined;
  private sharedAt = '';
  private readonly ownListeners = new Map<string, Listener>();
  private readonly dialers = new Map<string, Dialer>();
  private connectionCount = 0;
  private refusals: RefusalLog | undefined;
  private unsigned: UnsignedConnections | undefined;
  private signOnDeadlineMs = 0;
  accepting = true;

  constructor(private readonly deps: PartnerNetworkDeps) {}

  async start(config: SwitchConfig): Promise<void> {
    // Transport settings change only on restart, so these live as long as the network.
    this.refusals = new RefusalLog(this.deps.log, config.transport.refusalLogIntervalMs);
    this.signOnDeadlineMs = config.transport.signOnDeadlineMs;
    this.unsigned = new UnsignedConnections(config.transport.maxUnsignedPerSource);
    await this.apply(config);
  }

  /** Brings the running links in line with `config`; returns what was kept and what was swapped. */
  async apply(config: SwitchConfig): Promise<ReloadResult> {
    // Every key is read and checked before anything changes: a bad key file refuses the whole reload.
    const macKeys = partnerMacKeys(config);
    const next = new Map(config.partners.map((p) => [p.id, p]));
    const sharedAt = `${config.listen.host}:${config.listen.port}`;
    const sharedMoved = this.shared !== undefined && sharedAt !== this.sharedAt;
    const result = { kept: [] as string[], added: [] as string[], changed: [] as string[], removed: [] as string[] };
    for (const [id, runtime] of this.partners) {
      const wanted = next.get(id);
      if (!wanted) result.removed.push(id);
      else if (sharedMoved && onSharedListener(wanted)) result.changed.push(id);
      else if (runtime.sameSettings(wanted)) result.kept.push(id);
      else if (runtime.differsInMacKeysOnly(wanted)) {
        // A MAC key change keeps the partner's connections: the new keys apply from their next message.
        runtime.rekey(wanted, macKeys.get(id)!);
        this.deps.log.info({ partner: id, kcv: runtime.macKeys?.kcvs, sessions: runtime.sessions.size }, 'MAC keys replaced on the live sessions');
        result.kept.push(id);
      } else result.changed.push(id);
    }
    for (const id of next.keys()) if (!this.partners.has(id)) result.added.push(id);

    // Files are read before anything changes: one that is missing or not PEM refuses the whole reload.
    const refreshed = rereadTls(result.kept.map((id) => next.get(id)!));
    for (const tls of refreshed) this.refreshTls(tls.id, tls.listener, tls.dialOut);
    for (const id of [...result.removed, ...result.changed]) await this.stopPartner(id);
    if (sharedMoved) {
      await this.shared!.closeAll({ graceMs: 5_000 });
      this.shared = undefined;
    }
    for (const id of [...result.changed, ...result.added]) {
      const partner = next.get(id)!;
      this.partners.set(id, new PartnerRuntime(partner, macKeys.get(id)));
      if (partner.listener) this.ownListeners.set(id, await this.listenFor(partner, config));
      if (partner.dialOut) this.dialers.set(id, this.deps.leadership.guard(id, () => this.dialOutTo(partner, config)));
    }
    if (!this.shared && config.partners.some(onSharedListener)) {
      this.shared = await this.listenShared(config);
      this.sharedAt = sharedAt;
    }
    return result;
  }

  /** A kept partner's certificate, key, CAs and CRL, read again: new handshakes use them (reload). */
  private refreshTls(id: string, listener: ServerTlsOptions | undefined, dialOut: ClientTlsOptions | undefined): void {
    if (listener) this.ownListeners.get(id)?.updateTls(listener);
    if (dialOut) this.dialers.get(id)?.updateTls(dialOut);
  }

  /** Listening addresses and the partners each serves. */
  listeners(): { host: string; port: number; partners: string[] }[] {
    const out: { host: string; port: number; partners: string[] }[] = [];
    if (this.shared) {
      const partners = [...this.partners.values()].filter((p) => onSharedListener(p.config)).map((p) => p.config.id);
      out.push({ host: this.shared.host, port: this.shared.port, partners });
    }
    for (const [id, listener] of this.ownListeners) out.push({ host: listener.host, port: listener.port, partners: [id] });
    return out;
  }

  /** The shared listener, when there is one (its port is resolved when 0 was asked for). */
  get sharedListener(): Listener | undefined {
    return this.shared;
  }

  listenerOf(partnerId: string): Listener | undefined {
    return this.ownListeners.get(partnerId);
  }

  status(): PartnerStatus[] {
    return [...this.partners.values()].map((p) => p.status(this.endpointOf(p.config)));
  }

  get inFlight(): number {
    let n = 0;
    for (const p of this.partners.values()) n += p.load.inFlight;
    return n;
  }

  /** Stops accepting new connections and dialling; open connections carry on. */
  stopAccepting(): void {
    this.accepting = false;
    this.shared?.close();
    for (const listener of this.ownListeners.values()) listener.close();
  }

  /** Ends every connection once its in-flight requests are answered. */
  async closeAll(graceMs: number): Promise<void> {
    this.stopAccepting();
    await Promise.all([
      this.shared?.closeAll({ graceMs }),
      ...[...this.ownListeners.values()].map((l) => l.closeAll({ graceMs })),
      ...[...this.dialers.values()].map((d) => d.stop({ graceMs })),
    ]);
    this.dialers.clear();
    this.refusals?.close();
  }

  private endpointOf(partner: PartnerConfig): string {
    if (partner.dialOut) return `dial-out ${partner.dialOut.host}:${partner.dialOut.port}`;
    const own = this.ownListeners.get(partner.id);
    if (own) return `${own.host}:${own.port}`;
    return this.shared ? `shared ${this.shared.host}:${this.shared.port}` : 'shared';
  }

  private async stopPartner(id: string): Promise<void> {
    const runtime = this.partners.get(id);
    this.partners.delete(id);
    await Promise.all([
      this.ownListeners.get(id)?.closeAll({ graceMs: 5_000 }),
      this.dialers.get(id)?.stop({ graceMs: 5_000 }),
      runtime?.endSessions(5_000),
    ]);
    this.ownListeners.delete(id);
    this.dialers.delete(id);
  }

  private connectionOptions(config: SwitchConfig, partners: readonly PartnerConfig[]) {
    return {
      maxFrameBytes: config.transport.maxFrameBytes,
      idleTimeoutMs: config.transport.idleTimeoutMs,
      maxGarbageFrames: config.transport.maxGarbageFrames,
      frameDeadlineMs: config.transport.frameDeadlineMs,
      maxInFlight: READ_AHEAD * Math.max(...partners.map((p) => p.limits.maxInFlight)),
      logger: this.deps.log,
    };
  }

  /** What every listener shares: the trusted proxies, the PROXY header's deadline, the rate-limited refusal log. */
  private listenerOptions(config: SwitchConfig) {
    return {
      trustedProxies: config.transport.trustedProxies,
      preambleDeadlineMs: config.transport.frameDeadlineMs,
      refusalLog: this.refusals!,
    };
  }

  private async listenShared(config: SwitchConfig): Promise<Listener> {
    const candidates = () => [...this.partners.values()].filter((p) => onSharedListener(p.config));
    return startListener({
      ...this.connectionOptions(config, config.partners.filter(onSharedListener)),
      ...this.listenerOptions(config),
      host: config.listen.host,
      port: config.listen.port,
      framing: createFraming('binary-2'),
      onRefused: (refusal) => this.deps.observer.refused(undefined, refusal.reason),
      // Bound by source address, looked up at accept so a reload's allow-lists apply to new connections.
      onConnection: (connection) => {
        const address = connection.peer.remoteAddress;
        const runtime = candidates().find((p) => new AllowList(p.config.allowFrom).allows(address));
        if (!runtime) return this.refuse(connection, undefined, 'ADDRESS_NOT_ALLOWED');
        return this.bind(runtime, connection, 'inbound');
      },
    });
  }

  private async listenFor(partner: PartnerConfig, config: SwitchConfig): Promise<Listener> {
    const tls = listenerTlsOf(partner);
    return startListener({
      ...this.connectionOptions(config, [partner]),
      ...this.listenerOptions(config),
      host: partner.listener!.host,
      port: partner.listener!.port,
      framing: createFraming({ name: partner.framing.type, lengthIncludesHeader: partner.framing.headerCountsItself }),
      allowList: partner.allowFrom,
      maxConnections: partner.limits.maxConnections,
      ...(tls ? { tls } : {}),
      onRefused: (refusal) => this.deps.observer.refused(partner.id, refusal.reason),
      onConnection: (connection) => this.bind(this.partners.get(partner.id)!, connection, 'inbound'),
    });
  }

  private dialOutTo(partner: PartnerConfig, config: SwitchConfig): Dialer {
    const dial = partner.dialOut!;
    const tls = dialOutTlsOf(partner);
    return startDialer({
      ...this.connectionOptions(config, [partner]),
      host: dial.host,
      port: dial.port,
      framing: createFraming({ name: partner.framing.type, lengthIncludesHeader: partner.framing.headerCountsItself }),
      ...(tls ? { tls } : {}),
      backoff: { baseMs: dial.reconnectBaseMs, maxMs: dial.reconnectMaxMs },
      onConnected: (connection) => this.bind(this.partners.get(partner.id)!, connection, 'dial-out'),
    });
  }

  private refuse(connection: Connection, partnerId: string | undefined, reason: string): MessageHandler {
    this.refusals!.record({ reason, remoteAddress: connection.peer.remoteAddress, partner: partnerId });
    this.deps.observer.refused(partnerId, reason);
    connection.destroy();
    return NO_HANDLER;
  }

  /** A connection that has not signed on within the deadline is ended: it holds a slot and does nothing. */
  private enforceSignOnDeadline(session: Session, connection: Connection): void {
    const deadlineMs = this.signOnDeadlineMs;
    const timer = setTimeout(() => {
      if (session.signedOn || !connection.isOpen) return;
      this.deps.log.info({ partner: session.partner.id, connection: connection.id, deadlineMs }, 'closing: no sign-on within the deadline');
      void connection.end(DEADLINE_END_GRACE_MS, 'SIGN_ON_DEADLINE');
    }, deadlineMs);
    timer.unref();
    void connection.closed.then(() => clearTimeout(timer));
  }

  /** A verified connection becomes a session of exactly one partner. */
  private bind(runtime: PartnerRuntime, connection: Connection, direction: 'inbound' | 'dial-out'): MessageHandler {
    const { observer, log } = this.deps;
    const partner = runtime.config;
    if (!this.accepting && direction === 'inbound') return this.refuse(connection, partner.id, 'SHUTTING_DOWN');
    const source = connection.peer.remoteAddress;
    const mustSignOn = direction === 'inbound' && partner.signOnRequired;
    if (mustSignOn) {
      const admission = this.unsigned!.admit(source, connection);
      if (!admission.admitted) return this.refuse(connection, partner.id, 'TOO_MANY_UNSIGNED');
      if (admission.evicted) this.refusals!.record({ reason: 'EVICTED_UNSIGNED', remoteAddress: source, partner: partner.id });
    }
    if (runtime.sessions.size >= partner.limits.maxConnections) {
      this.unsigned!.release(source, connection);
      return this.refuse(connection, partner.id, 'TOO_MANY_CONNECTIONS');
    }
    const session = new Session(connection.id, partner, source, runtime.load, direction, (signedOn) => {
      if (signedOn) this.unsigned!.release(source, connection);
      observer.signOnChanged(partner.id, signedOn);
    }, runtime);
    if (mustSignOn) this.enforceSignOnDeadline(session, connection);
    const outbound = direction === 'dial-out' ? new OutboundRequests(connection, (m) => runtime.pack(m)) : undefined;
    runtime.sessions.set(session, connection);
    this.connectionCount++;
    observer.connectionOpened(partner.id);
    log.info({ partner: partner.id, connection: connection.id, remote: session.remoteAddress, direction }, 'partner connected');
    void connection.closed.then(() => {
      this.unsigned!.release(source, connection);
      runtime.sessions.delete(session);
      outbound?.cancelAll();
      if (session.signedOn) observer.signOnChanged(partner.id, false);
      observer.connectionClosed(partner.id);
    });
    if (outbound) keepDialOutAlive(session, connection, outbound, partner.dialOut!.echoIntervalMs, log);
    return createConnectionHandler(session, {
      packager: runtime.packager,
      services: this.deps.services,
      journal: this.deps.journal,
      log,
      observer,
      packResponse: (response, sign, key) => (sign ? runtime.pack(response, key) : runtime.packager.pack(response)),
      ...(outbound ? { outbound } : {}),
    });
  }
}
