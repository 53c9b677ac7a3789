import { z } from 'zod';
import { adminConfigSchema } from '../admin/config.js';
import { MIN_RETENTION_MONTHS } from '../journal/partitions.js';
import { channelsConfigSchema } from '../channels/rest/config.js';
import { metricsConfigSchema } from '../observability/config.js';
import { keysConfigSchema } from '../security/keys/config.js';
import { canonicalAcquirerId } from './acquirer-id.js';
import { insecureSchema } from './link-security.js';

/**
 * The switch's configuration. Everything has a default that reproduces specs/CONTRACT.md, so
 * `npm start` needs no file; a config file (JSON or YAML) overrides any part of it.
 */
const hostPort = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535),
  /** Plaintext outside loopback, for a private circuit only: see src/config/link-security.ts. */
  insecure: insecureSchema.optional(),
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
  /**
   * The partner's identity on its own listener (required there): its client certificate's subject CN, or one of
   * its DNS or URI subject alternative names. A dial-out checks the bank's server certificate against dialOut.host.
   */
  clientSubject: z.string().min(1).optional(),
  /**
   * The CA certificate(s) that must have issued the partner's certificate itself; default caFile. Set it when
   * caFile is a bundle trusted for several partners, so that another CA's certificate with the same CN is refused.
   */
  clientIssuerFile: z.string().optional(),
  /** A CRL (PEM) per CA in caFile, re-read on reload: a revoked client certificate is refused. */
  crlFile: z.string().optional(),
}).strict();

const kcv = z.string().regex(/^[0-9A-Fa-f]{6}$/, 'must be 6 hex digits');
const macSchema = z.discriminatedUnion('algorithm', [
  z.object({ algorithm: z.literal('none') }).strict(),
  z.object({
    /** ANSI X9.19 on the message's last field: 64 without a secondary bitmap, 128 with one. */
    algorithm: z.literal('x9.19'),
    /**
     * The key's file (32 hex digits, mode 0600 or 0400), never the key: without it the key comes from
     * $CREDENTIALS_DIRECTORY/mac-<partner id> or JHT_MAC_KEY_<PARTNER_ID> (src/security/load-mac-keys.ts).
     */
    keyFile: z.string().min(1).optional(),
    /** Key check value (6 hex digits) to catch a mistyped key at start-up. Never logged: the KCV is shown instead. */
    kcv,
    /** During a key change only: the old key, still accepted, and its check value. */
    previousKeyFile: z.string().min(1).optional(),
    previousKcv: kcv.optional(),
  }).strict(),
]);

/**
 * Requests per second per partner unless configured: far above what one bank's ATMs send for JHT balances at
 * their peak (tens a second), and low enough that sweeping one BIN's 10^8 to 10^9 possible cards takes weeks
 * and shows in the share of 14 answers long before (ops/prometheus/jht-switch.rules.yaml).
 */
export const DEFAULT_REQUESTS_PER_SECOND = 200;

/** What a slow or silent peer may hold, and for how long (issue 10, point 5). */
export const EXHAUSTION_DEFAULTS = {
  frameDeadlineMs: 10_000,
  signOnDeadlineMs: 30_000,
  maxUnsignedPerSource: 8,
  refusalLogIntervalMs: 10_000,
} as const;

const exhaustionSettings = {
  /** A frame whose first byte has arrived must be complete within this, or the connection is closed. */
  frameDeadlineMs: z.number().int().positive().default(EXHAUSTION_DEFAULTS.frameDeadlineMs),
  /** A connection of a partner with signOnRequired must sign on within this, or it is closed. */
  signOnDeadlineMs: z.number().int().positive().default(EXHAUSTION_DEFAULTS.signOnDeadlineMs),
  /**
   * Connections from one source address not signed on yet (signed-on sessions do not count). At the cap the
   * oldest one waiting more than a second makes room; otherwise the new connection is refused.
   */
  maxUnsignedPerSource: z.number().int().positive().default(EXHAUSTION_DEFAULTS.maxUnsignedPerSource),
  /** Refused connections are logged as one summary line with counts per interval. */
  refusalLogIntervalMs: z.number().int().positive().default(EXHAUSTION_DEFAULTS.refusalLogIntervalMs),
};

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
    /** Plaintext to the bank's host, for a private circuit only (a MAC is then required). */
    insecure: insecureSchema.optional(),
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
    /**
     * How long the ATM's claim-and-read and every durable journal commit wait for more inquiries to share one
     * statement, at low rates: CPU per inquiry against latency (README, "Figures"). 0: the next turn only.
     */
    batchWindowMs: z.number().int().min(0).max(10).default(1),
  }).strict().default({ timeoutMs: 250, breakerResetMs: 2_000, breakerErrorPercentage: 50, breakerVolumeThreshold: 5, batchWindowMs: 1 }),
  /** Where the data keys are (files, systemd credentials, the environment): never the keys themselves. */
  keys: keysConfigSchema,
  transport: z.object({
    maxFrameBytes: z.number().int().min(64).max(65_535).default(8_192),
    idleTimeoutMs: z.number().int().positive().default(300_000),
    /** Garbage frames (undecodable MTI or bitmap) tolerated on a connection before it is closed. */
    maxGarbageFrames: z.number().int().positive().default(5),
    ...exhaustionSettings,
    /**
     * Load balancers (addresses or CIDRs) that send a PROXY protocol v2 header: from them the header is required
     * and its source address is the one checked (allowFrom, shared-listener binding, per-source caps).
     */
    trustedProxies: z.array(z.string().min(1)).default([]),
  }).strict().default({ maxFrameBytes: 8_192, idleTimeoutMs: 300_000, maxGarbageFrames: 5, ...EXHAUSTION_DEFAULTS, trustedProxies: [] }),
  journal: z.object({
    flushIntervalMs: z.number().int().positive().default(20),
    maxBatch: z.number().int().positive().default(500),
    /** Months of journal `jht-switch journal maintain` keeps before dropping a month's partition (PCI DSS 10.5.1: 12+). */
    retentionMonths: z.number().int().min(MIN_RETENTION_MONTHS, `must be at least ${MIN_RETENTION_MONTHS} (PCI DSS 10.5.1)`)
      .default(MIN_RETENTION_MONTHS),
  }).strict().default({ flushIntervalMs: 20, maxBatch: 500, retentionMonths: MIN_RETENTION_MONTHS }),
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
