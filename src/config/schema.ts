import { z } from 'zod';
import { adminConfigSchema } from '../admin/config.js';
import { channelsConfigSchema } from '../channels/rest/config.js';
import { metricsConfigSchema } from '../observability/config.js';
import { canonicalAcquirerId } from './acquirer-id.js';

/**
 * The switch's configuration. Everything has a default that reproduces specs/CONTRACT.md, so
 * `npm start` needs no file; a config file (JSON or YAML) overrides any part of it.
 */
const hostPort = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535),
}).strict();

const digits = (max: number) => z.string().regex(new RegExp(`^\\d{1,${max}}$`), `must be 1 to ${max} digits`);

export const framingSchema = z.object({
  type: z.enum(['binary-2', 'ascii-4', 'binary-2-tpdu']).default('binary-2'),
  /** Some hosts count the length header in the length. */
  headerCountsItself: z.boolean().default(false),
}).strict();

const tlsSchema = z.object({
  /** PEM files: the switch's key and certificate, and the CA that signs partners' client certificates. */
  keyFile: z.string(),
  certFile: z.string(),
  caFile: z.string(),
  /** The subject CN the partner's client certificate must carry. */
  clientSubject: z.string().min(1),
}).strict();

const macSchema = z.discriminatedUnion('algorithm', [
  z.object({ algorithm: z.literal('none') }).strict(),
  z.object({
    /** ANSI X9.19 on the message's last field: 64 without a secondary bitmap, 128 with one. */
    algorithm: z.literal('x9.19'),
    /** Double-length DES key as 32 hex digits. Never logged: the KCV is shown instead. */
    key: z.string().regex(/^[0-9A-Fa-f]{32}$/, 'must be 32 hex digits (double-length DES key)'),
    /** Key check value (6 hex digits) to catch a mistyped key at start-up. */
    kcv: z.string().regex(/^[0-9A-Fa-f]{6}$/, 'must be 6 hex digits'),
  }).strict(),
]);

/**
 * Requests per second per partner unless configured: far above what one bank's ATMs send for JHT balances at
 * their peak (tens a second), and low enough that sweeping one BIN's 10^8 to 10^9 possible cards takes weeks
 * and shows in the share of 14 answers long before (ops/prometheus/jht-switch.rules.yaml).
 */
export const DEFAULT_REQUESTS_PER_SECOND = 200;

export const partnerSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  name: z.string().min(1),
  /** Field 32 values this partner may send, kept without leading zeros ("008" is 8: see canonicalAcquirerId). */
  acquirerIds: z.array(digits(11)).min(1).transform((ids) => ids.map(canonicalAcquirerId)),
  /** A listener of its own; without one, the partner connects to the shared listener and is known by its address. */
  listener: hostPort.optional(),
  dialOut: z.object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    echoIntervalMs: z.number().int().positive().default(60_000),
    reconnectBaseMs: z.number().int().positive().default(500),
    reconnectMaxMs: z.number().int().positive().default(30_000),
  }).strict().optional(),
  framing: framingSchema.default({ type: 'binary-2', headerCountsItself: false }),
  profile: z.string().default('iso87-ascii'),
  /** Processing codes accepted; by default every JHT balance inquiry code 31xx00. */
  processingCodes: z.array(z.string().regex(/^\d{6}$/)).optional(),
  tls: tlsSchema.optional(),
  /** Source addresses (IPs or CIDRs) allowed to connect as this partner. */
  allowFrom: z.array(z.string().min(1)).default(['127.0.0.1', '::1']),
  mac: macSchema.default({ algorithm: 'none' }),
  limits: z.object({
    maxConnections: z.number().int().positive().default(64),
    maxInFlight: z.number().int().positive().default(512),
    requestsPerSecond: z.number().positive().default(DEFAULT_REQUESTS_PER_SECOND),
  }).strict().default({ maxConnections: 64, maxInFlight: 512, requestsPerSecond: DEFAULT_REQUESTS_PER_SECOND }),
  /**
   * The BINs (first 6 to 8 digits of field 2) of the cards this partner issues. With a list, an inquiry for
   * any other card is answered 58 before the ledger is read, so a compromised host cannot sweep other banks'
   * cards; without one, every card is accepted.
   */
  bins: z.array(z.string().regex(/^\d{6,8}$/, 'must be 6 to 8 digits')).min(1).optional(),
  signOnRequired: z.boolean().default(true),
}).strict();

/** The contract's demo partner: acquirer 99901, allowed from loopback, on the shared listener. */
export const DEMO_PARTNER: z.input<typeof partnerSchema> = { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] };

export const switchConfigSchema = z.object({
  /** The shared listener, for partners without a listener of their own. */
  listen: hostPort.default({ host: '127.0.0.1', port: 8583 }),
  database: z.object({
    /** An external PostgreSQL; without it the switch starts an embedded one. */
    url: z.string().optional(),
    dataDir: z.string().default('.data/postgres'),
    embeddedPort: z.number().int().min(1).max(65535).default(54329),
    /** Seed the demo data into an external database too (always done on a new embedded one). */
    seedDemo: z.boolean().default(false),
    poolSize: z.number().int().positive().default(10),
  }).strict().default({ dataDir: '.data/postgres', embeddedPort: 54329, seedDemo: false, poolSize: 10 }),
  ledger: z.object({
    /** Time budget of one ledger read; past it the ATM gets 91. */
    timeoutMs: z.number().int().positive().default(250),
    breakerResetMs: z.number().int().positive().default(2_000),
    breakerErrorPercentage: z.number().min(1).max(100).default(50),
    breakerVolumeThreshold: z.number().int().min(1).default(5),
  }).strict().default({ timeoutMs: 250, breakerResetMs: 2_000, breakerErrorPercentage: 50, breakerVolumeThreshold: 5 }),
  /** HMAC key for card and account numbers (hex, 32+ bytes). The development default is logged as such. */
  cardKey: z.string().regex(/^([0-9A-Fa-f]{2}){16,}$/, 'must be at least 16 bytes of hex').optional(),
  transport: z.object({
    maxFrameBytes: z.number().int().min(64).max(65_535).default(8_192),
    idleTimeoutMs: z.number().int().positive().default(300_000),
    /** Garbage frames (undecodable MTI or bitmap) tolerated on a connection before it is closed. */
    maxGarbageFrames: z.number().int().positive().default(5),
  }).strict().default({ maxFrameBytes: 8_192, idleTimeoutMs: 300_000, maxGarbageFrames: 5 }),
  journal: z.object({
    flushIntervalMs: z.number().int().positive().default(20),
    maxBatch: z.number().int().positive().default(500),
  }).strict().default({ flushIntervalMs: 20, maxBatch: 500 }),
  shutdown: z.object({
    /**
     * SIGTERM/SIGINT to exit, everything included: in-flight answers, the journal and the stored answers,
     * the ledger and the embedded database. Past it the switch exits anyway, saying what it could not write.
     */
    deadlineMs: z.number().int().min(1_000).max(600_000).default(20_000),
  }).strict().default({ deadlineMs: 20_000 }),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    pretty: z.boolean().default(false),
  }).strict().default({ level: 'info', pretty: false }),
  /** The Unix socket of `jht-switch status|drain|reload`. */
  admin: adminConfigSchema,
  /** /metrics, /healthz and /readyz over HTTP. */
  metrics: metricsConfigSchema,
  /** Channels besides the ATM: `channels.rest`, the REST API (src/channels/rest/config.ts). */
  channels: channelsConfigSchema,
  partners: z.array(partnerSchema).min(1).default(() => [partnerSchema.parse(DEMO_PARTNER)]),
}).strict();

export type SwitchConfig = z.output<typeof switchConfigSchema>;
export type SwitchConfigInput = z.input<typeof switchConfigSchema>;
export type PartnerConfig = z.output<typeof partnerSchema>;
export type FramingConfig = z.output<typeof framingSchema>;
