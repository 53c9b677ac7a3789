import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import { ConfigError } from '../../config/config-error.js';
import type { SwitchConfig } from '../../config/schema.js';
import {
  CHANNELS, IdempotencyStore, InquiryCore, ParticipantReader, RateLimiter, createInquiryMetrics,
  type Channel, type InquiryJournal,
} from '../../inquiry/index.js';
import type { DeploymentKind } from '../../ledger/index.js';
import type { Logger } from '../../observability/logger.js';
import type { KeyRing } from '../../security/keys/index.js';
import { serverTlsOptions } from '../../transport/tls/server-tls.js';
import { plaintextListenerProblem, type RestIssuerConfig } from './config.js';
import { DEMO_CLIENTS, DEV_ISSUER, DEV_JWKS_PATH, DevIssuer } from './dev-issuer.js';
import { buildRestApp } from './rest-app.js';
import { TokenVerifier } from './token-verifier.js';

export interface RestChannelDeps {
  pool: Pool;
  /** LedgerReader.guard: every round trip of the channel goes through the ledger's breaker. */
  guard: <T>(work: () => Promise<T>) => Promise<T>;
  /** The data keys of the database (DatabaseHandle.keys). */
  keys: KeyRing;
  deployment: DeploymentKind;
  instanceId: string;
  /** The switch's journal (RunningSwitch.journal): REST's rows go with the ATM's, durable the same way. */
  journal: InquiryJournal;
  log: Logger;
  /** The switch's metrics registry: inquiries by channel go there. */
  registry?: Registry | undefined;
}

export interface RunningRest {
  readonly host: string;
  readonly port: number;
  /** http(s)://host:port */
  readonly url: string;
  /** The development issuer, with the embedded demo only. */
  readonly devIssuer: DevIssuer | undefined;
  close(): Promise<void>;
}

const KEY_RETENTION_MS = 86_400_000;
/** The channels whose keys REST claims and prunes; the key table holds the ATM's too, kept longer. */
const REST_CHANNELS: readonly string[] = CHANNELS.filter((channel) => channel !== 'atm');
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The REST API (`channels.rest`): started by `serve` after the switch. Outside the demo it needs a
 * configured issuer; without one it stays off, and says so. Undefined when it does not start.
 */
export async function startRestChannel(config: SwitchConfig, deps: RestChannelDeps): Promise<RunningRest | undefined> {
  const rest = config.channels.rest;
  const { log } = deps;
  if (!rest.enabled) return undefined;
  const plaintext = plaintextListenerProblem(rest.host, rest.tls);
  if (plaintext) throw new ConfigError('configuration', 'channels.rest', plaintext);
  const demo = deps.deployment === 'demo';
  if (!demo) await DevIssuer.remove(config.database.dataDir);
  if (!rest.issuer && !demo) {
    log.warn('channels.rest: no issuer configured (channels.rest.issuer); the REST API is off');
    return undefined;
  }
  const devIssuer = rest.issuer ? undefined : await DevIssuer.openOrCreate(config.database.dataDir);
  const clients = new Map<string, Channel>(rest.clients.map((c) => [c.clientId, c.channel as Channel]));
  if (devIssuer) for (const c of DEMO_CLIENTS) if (!clients.has(c.clientId)) clients.set(c.clientId, c.channel);

  const keys = new IdempotencyStore(deps.pool, { instanceId: deps.instanceId, retentionMs: KEY_RETENTION_MS, guard: deps.guard });
  const core = new InquiryCore({
    reader: new ParticipantReader(deps.pool, { guard: deps.guard, timeoutMs: config.ledger.timeoutMs }),
    keys,
    journal: deps.journal,
    participantLimiter: new RateLimiter(rest.limits.participantRequestsPerMinute / 60, rest.limits.participantBurst),
    dataKeys: deps.keys,
    unavailableRetryAfterSeconds: Math.max(1, Math.ceil(config.ledger.breakerResetMs / 1000)),
    log,
    ...(deps.registry ? { observer: createInquiryMetrics(deps.registry) } : {}),
  });
  const https = rest.tls
    ? { ...serverTlsOptions({ key: readFileSync(rest.tls.keyFile), cert: readFileSync(rest.tls.certFile), ca: readFileSync(rest.tls.caFile), minVersion: rest.tls.minVersion }), allowHalfOpen: false }
    : undefined;
  let verifier: TokenVerifier | undefined;
  const app = await buildRestApp({
    core,
    verifier: () => verifier!,
    clients,
    clientLimiter: new RateLimiter(rest.limits.clientRequestsPerSecond, rest.limits.clientBurst),
    log,
    devJwks: devIssuer?.jwks,
    https,
  });
  await app.listen({ host: rest.host, port: rest.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : rest.port;
  const url = `${https ? 'https' : 'http'}://${rest.host.includes(':') ? `[${rest.host}]` : rest.host}:${port}`;
  if (devIssuer) {
    // The demo's JWKS is fetched over HTTP from this listener, as a real issuer's would be; behind mutual TLS
    // the verifier could not present a client certificate to itself, so it holds the key set directly.
    const issuer: RestIssuerConfig = { issuer: DEV_ISSUER, jwksUrl: `${url}${DEV_JWKS_PATH}`, audience: 'jht-switch', maxLifetimeSeconds: 3_600, clockToleranceSeconds: 30 };
    verifier = new TokenVerifier(issuer, rest.tokenCacheSize, https ? { jwks: devIssuer.jwks } : {});
    log.warn({ clients: DEMO_CLIENTS.map((c) => c.clientId) }, 'channels.rest: DEVELOPMENT token issuer (embedded demo only): `npx jht-switch token` signs tokens for it');
  } else {
    verifier = new TokenVerifier(rest.issuer!, rest.tokenCacheSize);
  }
  log.info({ host: rest.host, port, tls: https !== undefined }, 'rest listening');

  const prune = setInterval(() => {
    keys.pruneCreatedBefore(REST_CHANNELS, new Date(Date.now() - KEY_RETENTION_MS)).catch((error: unknown) => log.warn({ err: error }, 'rest: could not prune idempotency keys; will try again'));
  }, PRUNE_EVERY_MS);
  prune.unref();
  return {
    host: rest.host,
    port,
    url,
    devIssuer,
    async close() {
      clearInterval(prune);
      await app.close();
    },
  };
}
