import { z } from 'zod';
import { insecureSchema } from '../config/link-security.js';

export const DEFAULT_METRICS_HOST = '127.0.0.1';
/** Easy to remember next to the switch's 8583. */
export const DEFAULT_METRICS_PORT = 9583;

/** `metrics:` in the switch configuration: where /metrics, /healthz and /readyz are served. */
export const metricsConfigSchema = z.object({
  /** Loopback by default: expose it beyond the host on purpose, never by accident. */
  host: z.string().min(1).default(DEFAULT_METRICS_HOST),
  port: z.number().int().min(0).max(65535).default(DEFAULT_METRICS_PORT),
  enabled: z.boolean().default(true),
  /** HTTPS with this key and certificate (PEM files): required outside loopback unless `insecure`. */
  tls: z.object({ keyFile: z.string(), certFile: z.string() }).strict().optional(),
  /** Plain HTTP outside loopback, for a private monitoring network: the reason is logged at every start. */
  insecure: insecureSchema.optional(),
}).strict().default({ host: DEFAULT_METRICS_HOST, port: DEFAULT_METRICS_PORT, enabled: true });

export type MetricsConfig = z.output<typeof metricsConfigSchema>;
