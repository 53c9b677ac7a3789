import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { startRestChannel, type RunningRest } from '../../src/channels/rest/rest-channel.js';
import { switchConfigSchema, type SwitchConfigInput } from '../../src/config/schema.js';
import { JournalWriter } from '../../src/journal/index.js';
import { LedgerReader, SWITCH_ROLE } from '../../src/ledger/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { TEST_KEYS, connectAsRole } from './database.js';
import { LogCapture } from './switch-harness.js';

/**
 * A token issuer for the REST tests: real key pairs (ES256, RS256, EdDSA), their JWKS served over HTTP
 * from its own loopback port (the API fetches it as it would a real issuer's), and tokens signed with them.
 */
export interface TestIssuer {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** How many times the JWKS was fetched. */
  readonly fetches: number;
  token(claims: TokenClaims, options?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

export interface TokenClaims {
  client_id: string;
  sub: string;
  scope: string;
  aud?: string;
  iss?: string;
  cnf?: { 'x5t#S256': string };
}

export interface SignOptions {
  alg?: 'ES256' | 'RS256' | 'EdDSA';
  typ?: string;
  lifetimeSeconds?: number;
  /** Seconds added to "now" for iat and exp (negative: issued in the past). */
  shiftSeconds?: number;
  /** Sign with a key the JWKS does not hold. */
  foreignKey?: boolean;
}

export const TEST_AUDIENCE = 'jht-switch';

export async function startTestIssuer(): Promise<TestIssuer> {
  const algs = ['ES256', 'RS256', 'EdDSA'] as const;
  const keys = new Map<string, { privateKey: CryptoKey; kid: string }>();
  const jwks: JWK[] = [];
  for (const alg of algs) {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    const kid = `${alg}-${randomUUID()}`;
    keys.set(alg, { privateKey, kid });
    jwks.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' });
  }
  const foreign = await generateKeyPair('ES256');
  let fetches = 0;
  const server: Server = createServer((request, response) => {
    fetches++;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const issuer = `http://127.0.0.1:${port}/`;
  return {
    issuer,
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    get fetches() {
      return fetches;
    },
    async token(claims, options = {}) {
      const alg = options.alg ?? 'ES256';
      const key = keys.get(alg)!;
      const now = Math.floor(Date.now() / 1000) + (options.shiftSeconds ?? 0);
      const { aud, iss, ...rest } = claims;
      return new SignJWT({ ...rest })
        .setProtectedHeader({ alg, typ: options.typ ?? 'at+jwt', kid: key.kid })
        .setIssuer(iss ?? issuer)
        .setAudience(aud ?? TEST_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + (options.lifetimeSeconds ?? 600))
        .setJti(randomUUID())
        .sign(options.foreignKey ? foreign.privateKey : key.privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface TestRest {
  readonly rest: RunningRest;
  readonly url: string;
  readonly logs: LogCapture;
  readonly ledger: LedgerReader;
  readonly pool: Pool;
  /** The metrics registry the channel counts on. */
  readonly registry: Registry;
  /** POSTs an inquiry; `token` undefined sends none. */
  inquire(body: unknown, options?: { token?: string | undefined; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** The test clients: one per channel. */
export const TEST_CLIENTS = [
  { clientId: 'app-1', channel: 'app' },
  { clientId: 'web-1', channel: 'web' },
  { clientId: 'counter-1', channel: 'counter' },
  { clientId: 'callcentre-1', channel: 'call-centre' },
  { clientId: 'kiosk-1', channel: 'kiosk' },
] as const;

/**
 * The REST channel in this process on the shared test database, logged in as jht_switch (so the tests also
 * prove its grants), with `issuer` as its configured token issuer. `config` goes on top (limits, TLS, ledger).
 */
export async function startTestRest(issuer: TestIssuer, config: Partial<SwitchConfigInput> = {}): Promise<TestRest> {
  const logs = new LogCapture();
  const log = createLogger({ level: 'debug', destination: logs });
  const dataDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'jht-rest-test-')), 'pg');
  const rest = (config.channels as { rest?: object } | undefined)?.rest ?? {};
  const parsed = switchConfigSchema.parse({
    ...config,
    database: { dataDir },
    channels: {
      rest: {
        port: 0,
        issuer: { issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience: TEST_AUDIENCE },
        clients: TEST_CLIENTS,
        ...rest,
      },
    },
  });
  const pool = await connectAsRole(SWITCH_ROLE, { max: 4 });
  // Connected before the first request, as serve warms its pool (src/channels/atm/jht-switch.ts): a cold
  // connection's SCRAM handshake on a loaded machine can take the whole 250 ms budget, and the test gets 503.
  const warm = await Promise.all(Array.from({ length: 4 }, () => pool.connect()));
  for (const client of warm) client.release();
  const ledger = new LedgerReader({
    keys: TEST_KEYS, log, resetTimeoutMs: parsed.ledger.breakerResetMs,
    errorThresholdPercentage: parsed.ledger.breakerErrorPercentage, volumeThreshold: parsed.ledger.breakerVolumeThreshold,
  });
  const registry = new Registry();
  const instanceId = `rest-test-${process.pid}`;
  const journal = new JournalWriter(pool, { instanceId, logger: log, guard: (work) => ledger.guard(work) });
  const running = await startRestChannel(parsed, {
    pool, guard: (work) => ledger.guard(work), keys: TEST_KEYS, deployment: 'real', instanceId, journal, log, registry,
  });
  if (!running) throw new Error('the REST channel did not start');
  return {
    rest: running,
    url: running.url,
    logs,
    ledger,
    pool,
    registry,
    async inquire(body, options = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      const response = await fetch(`${running.url}/v1/balance-inquiries`, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: response.status, headers: response.headers, body: await response.json() as Record<string, unknown> };
    },
    async stop() {
      await running.close();
      await journal.close();
      await ledger.close();
      await pool.end();
    },
  };
}

/**
 * Mocha hooks for the enclosing describe: a test issuer, and the REST channel trusting it (with `config` on
 * top), started before its tests and stopped after them.
 */
export function useTestRest(config: Partial<SwitchConfigInput> = {}): { readonly issuer: TestIssuer; readonly api: TestRest } {
  let issuer: TestIssuer | undefined;
  let api: TestRest | undefined;
  before(async () => {
    issuer = await startTestIssuer();
    api = await startTestRest(issuer, config);
  });
  after(async () => {
    await api?.stop();
    await issuer?.close();
  });
  return {
    get issuer() {
      return issuer!;
    },
    get api() {
      return api!;
    },
  };
}
