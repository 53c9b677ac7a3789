import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from 'jose';
import type { Channel } from '../../inquiry/index.js';

/**
 * The development token issuer of the embedded demo: an ES256 key pair in a file beside the data directory
 * (`<dataDir>.dev-issuer.json`, mode 0600), its JWKS served by the REST listener at /dev/jwks.json, and one
 * demo client per scope. `serve` creates it only when the database is the demo and deletes it otherwise;
 * outside the demo the REST API never trusts it, so a leftover key is worth nothing.
 */

export const DEV_ISSUER = 'urn:jht-switch:dev-issuer';
export const DEV_JWKS_PATH = '/dev/jwks.json';
const ALG = 'ES256';

export const SCOPES = { self: 'jht:balance:self', any: 'jht:balance:any', kiosk: 'jht:balance:kiosk' } as const;
export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

/** The demo's clients, one per scope, and the channel each one is. */
export const DEMO_CLIENTS: readonly { clientId: string; channel: Channel; scope: Scope }[] = [
  { clientId: 'demo-app', channel: 'app', scope: SCOPES.self },
  { clientId: 'demo-counter', channel: 'counter', scope: SCOPES.any },
  { clientId: 'demo-kiosk', channel: 'kiosk', scope: SCOPES.kiosk },
];

export function devIssuerFile(dataDir: string): string {
  return `${path.resolve(dataDir)}.dev-issuer.json`;
}

export interface TokenRequest {
  clientId: string;
  subject: string;
  scope: string;
  audience: string;
  lifetimeSeconds?: number;
  /** RFC 8705 binding: the base64url SHA-256 of the client certificate's DER. */
  certificateThumbprint?: string;
}

export class DevIssuer {
  private constructor(private readonly privateJwk: JWK, private readonly publicJwk: JWK) {}

  /** Reads the issuer's key, creating it on first use. */
  static async openOrCreate(dataDir: string): Promise<DevIssuer> {
    const file = devIssuerFile(dataDir);
    try {
      return DevIssuer.fromStored(JSON.parse(await readFile(file, 'utf8')) as JWK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: ALG, use: 'sig' };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
    return DevIssuer.fromStored(jwk);
  }

  /** The issuer of an existing demo (the `token` command); undefined when there is none. */
  static async open(dataDir: string): Promise<DevIssuer | undefined> {
    try {
      return DevIssuer.fromStored(JSON.parse(await readFile(devIssuerFile(dataDir), 'utf8')) as JWK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** A real database: no development issuer may remain. */
  static async remove(dataDir: string): Promise<void> {
    await rm(devIssuerFile(dataDir), { force: true });
  }

  private static fromStored(jwk: JWK): DevIssuer {
    const { d: _private, ...publicJwk } = jwk;
    return new DevIssuer(jwk, publicJwk);
  }

  get jwks(): JSONWebKeySet {
    return { keys: [this.publicJwk] };
  }

  async sign(request: TokenRequest): Promise<string> {
    const key = await importJWK(this.privateJwk, ALG);
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { client_id: request.clientId, scope: request.scope };
    if (request.certificateThumbprint !== undefined) claims.cnf = { 'x5t#S256': request.certificateThumbprint };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, typ: 'at+jwt', kid: this.publicJwk.kid! })
      .setIssuer(DEV_ISSUER)
      .setAudience(request.audience)
      .setSubject(request.subject)
      .setIssuedAt(now)
      .setExpirationTime(now + (request.lifetimeSeconds ?? 900))
      .setJti(randomUUID())
      .sign(key);
  }
}
