import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { RestIssuerConfig } from './config.js';

/**
 * RFC 9068 JWT access tokens from the configured issuer, verified with jose: signature against the issuer's
 * JWKS (a file, or a URL fetched and cached by jose), `iss`, `aud`, `exp` and `nbf` with the clock skew
 * allowed, `typ: at+jwt`, an algorithm allow-list (never HS* or none), and a maximum lifetime. A verified
 * token is kept, in a bounded cache, until it expires: a channel back-end reuses one token per session.
 */

export const ALLOWED_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

export interface VerifiedToken {
  readonly clientId: string;
  readonly subject: string;
  readonly scopes: ReadonlySet<string>;
  /** ms since the epoch. */
  readonly expiresAt: number;
  /** RFC 8705: the SHA-256 thumbprint (base64url) of the certificate the token is bound to. */
  readonly certificateThumbprint: string | undefined;
}

export type TokenCheck =
  | { readonly ok: true; readonly token: VerifiedToken }
  /** `reason` is for the log and the problem's detail: it never quotes the token. */
  | { readonly ok: false; readonly reason: string };

export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly cache = new Map<string, VerifiedToken>();
  private readonly now: () => number;

  /** `jwks`: the key set itself, for the demo's issuer behind mutual TLS (which could not fetch its own). */
  constructor(private readonly config: RestIssuerConfig, private readonly cacheSize: number, options: { now?: () => number; jwks?: JSONWebKeySet } = {}) {
    this.now = options.now ?? Date.now;
    if (options.jwks !== undefined) {
      this.keys = createLocalJWKSet(options.jwks);
    } else if (config.jwksFile !== undefined) {
      this.keys = createLocalJWKSet(JSON.parse(readFileSync(config.jwksFile, 'utf8')) as JSONWebKeySet);
    } else {
      this.keys = createRemoteJWKSet(new URL(config.jwksUrl!), { timeoutDuration: 2_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    }
  }

  async verify(token: string): Promise<TokenCheck> {
    const cached = this.cache.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt > this.now()) return { ok: true, token: cached };
      this.cache.delete(token);
      return { ok: false, reason: 'token expired' };
    }
    let verified: VerifiedToken;
    try {
      verified = await this.check(token);
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(token, verified);
    }
    return { ok: true, token: verified };
  }

  private async check(token: string): Promise<VerifiedToken> {
    const { payload } = await jwtVerify(token, this.keys, {
      issuer: this.config.issuer,
      audience: this.config.audience,
      algorithms: [...ALLOWED_ALGORITHMS],
      typ: 'at+jwt',
      clockTolerance: this.config.clockToleranceSeconds,
      requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
      currentDate: new Date(this.now()),
    });
    const { exp, iat, sub } = payload as { exp: number; iat: number; sub: string };
    const clientId = payload.client_id;
    const scope = payload.scope;
    if (typeof clientId !== 'string' || typeof sub !== 'string') throw new TokenRejected('client_id and sub must be strings');
    if (exp - iat > this.config.maxLifetimeSeconds) throw new TokenRejected('token lifetime exceeds the maximum');
    if (iat > this.now() / 1000 + this.config.clockToleranceSeconds) throw new TokenRejected('token issued in the future');
    const cnf = payload.cnf as { 'x5t#S256'?: unknown } | undefined;
    const thumbprint = typeof cnf?.['x5t#S256'] === 'string' ? cnf['x5t#S256'] : undefined;
    return {
      clientId,
      subject: sub,
      scopes: new Set(typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []),
      expiresAt: exp * 1000,
      certificateThumbprint: thumbprint,
    };
  }
}

class TokenRejected extends Error {}

function reasonOf(error: unknown): string {
  if (error instanceof TokenRejected) return error.message;
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} is not acceptable`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no issuer key matches the token';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError && error.code === 'ERR_JWKS_INVALID') return 'issuer keys unavailable';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return 'malformed token';
  return 'token not verifiable';
}
