import { isIP } from 'node:net';
import { z } from 'zod';
import { CHANNELS } from '../../inquiry/inquiry.js';

/**
 * `channels.rest` in the switch configuration: the REST API's listener, its token issuer, its clients and
 * its limits. Every default is safe: loopback, no issuer outside the demo (so no API), small limits.
 */

const restChannels = CHANNELS.filter((c) => c !== 'atm') as [string, ...string[]];

const issuerSchema = z.object({
  /** The `iss` every token must carry. */
  issuer: z.string().min(1),
  /** The issuer's JWKS: a file, or a URL (https unless on loopback). Exactly one. */
  jwksFile: z.string().min(1).optional(),
  jwksUrl: z.string().url().optional(),
  /** The `aud` every token must carry: this API. */
  audience: z.string().min(1).default('jht-switch'),
  /** exp - iat may not exceed this (RFC 9068 tokens are short-lived). */
  maxLifetimeSeconds: z.number().int().positive().max(86_400).default(3_600),
  clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
}).strict().refine((i) => (i.jwksFile === undefined) !== (i.jwksUrl === undefined), 'give exactly one of jwksFile and jwksUrl')
  .refine((i) => i.jwksUrl === undefined || jwksUrlAllowed(i.jwksUrl), 'jwksUrl must be https unless it is on loopback');

export const restConfigSchema = z.object({
  enabled: z.boolean().default(true),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Mutual TLS as on the ISO side: every client presents a certificate from caFile; kiosks' tokens are bound to theirs. */
  tls: z.object({ keyFile: z.string(), certFile: z.string(), caFile: z.string(), minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2') })
    .strict().optional(),
  /** Without one, only the embedded demo serves the API (with its development issuer). */
  issuer: issuerSchema.optional(),
  /** Which channel each OAuth client is: the channel comes from the credential, never from the request. */
  clients: z.array(z.object({ clientId: z.string().min(1).max(200), channel: z.enum(restChannels) }).strict()).default([]),
  limits: z.object({
    /** Per client, per instance (README: across N instances the total is N times this). */
    clientRequestsPerSecond: z.number().positive().default(200),
    clientBurst: z.number().int().positive().default(400),
    /** Per participant, whoever asks, per instance. */
    participantRequestsPerMinute: z.number().positive().default(20),
    participantBurst: z.number().int().positive().default(5),
  }).strict().default({ clientRequestsPerSecond: 200, clientBurst: 400, participantRequestsPerMinute: 20, participantBurst: 5 }),
  /** Verified tokens kept until they expire, at most this many. */
  tokenCacheSize: z.number().int().min(0).default(10_000),
}).strict();

export type RestConfig = z.output<typeof restConfigSchema>;
export type RestIssuerConfig = z.output<typeof issuerSchema>;

export const channelsConfigSchema = z.object({ rest: restConfigSchema.default(() => restConfigSchema.parse({})) }).strict()
  .default(() => ({ rest: restConfigSchema.parse({}) }));

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

function jwksUrlAllowed(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname));
}

/**
 * Why a listener may not start in plaintext, or undefined. A stand-in, kept small so the shared rule
 * (one for every listener) replaces it: off loopback, TLS is not optional.
 */
export function plaintextListenerProblem(host: string, tls: RestConfig['tls']): string | undefined {
  if (tls !== undefined || isLoopbackHost(host)) return undefined;
  return `channels.rest.host ${host} is not loopback: configure channels.rest.tls`;
}
