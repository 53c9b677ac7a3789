import { readFileSync } from 'node:fs';
import type { BreakerState } from '../ledger/index.js';
import type { MetricsConfig } from '../observability/config.js';
import { startOpsHttpServer, type OpsHttpServer } from '../observability/http-server.js';
import type { Logger } from '../observability/logger.js';
import type { SwitchMetrics } from '../observability/metrics.js';
import { createReadinessCheck } from '../observability/readiness.js';
import type { SwitchControl } from '../channels/atm/control.js';
import { startAdminServer, type AdminServer } from './admin-server.js';
import type { AdminConfig } from './config.js';

/** What the operator side needs of a running switch; RunningSwitch has it all. */
export interface OperatedSwitch extends SwitchControl {
  readonly ledger: { readonly state: BreakerState };
  readonly journal: { readonly queueDepth: number };
  readonly database: { readonly pool: { query(sql: string): Promise<unknown> } };
}

export interface OperationsOptions {
  running: OperatedSwitch;
  metrics: SwitchMetrics;
  admin: AdminConfig;
  /** `metrics:` of the configuration; with enabled: false there is no HTTP server. */
  http: MetricsConfig;
  /** The ledger's time budget (ledger.timeoutMs): a readiness ping slower than that is not ready. */
  ledgerTimeoutMs: number;
  log: Logger;
}

export interface Operations {
  readonly admin: AdminServer;
  readonly http: OpsHttpServer | undefined;
  close(): Promise<void>;
}

/**
 * Everything operators reach a running switch by: the metrics' scrape-time sources, the admin socket, and
 * /metrics, /healthz, /readyz. If one of them cannot start, the ones already started are closed again.
 */
export async function startOperations(options: OperationsOptions): Promise<Operations> {
  const { running, metrics, log } = options;
  metrics.bind({ breakerState: () => running.ledger.state, journalQueueDepth: () => running.journal.queueDepth });
  const admin = await startAdminServer({
    socketPath: options.admin.socketPath, auditLogPath: options.admin.auditLogPath, control: running, recent: metrics.recent, log,
  });
  let http: OpsHttpServer | undefined;
  if (options.http.enabled) {
    try {
      http = await startOpsHttpServer({
        host: options.http.host,
        port: options.http.port,
        registry: metrics.registry,
        readiness: createReadinessCheck({
          control: running,
          pingLedger: () => running.database.pool.query('SELECT 1'),
          ledgerTimeoutMs: options.ledgerTimeoutMs,
        }),
        log,
        ...(options.http.tls ? { tls: { key: readFileSync(options.http.tls.keyFile), cert: readFileSync(options.http.tls.certFile) } } : {}),
      });
    } catch (error) {
      await admin.close();
      throw error;
    }
  }
  return {
    admin,
    http,
    async close() {
      await Promise.all([admin.close(), http?.close()]);
    },
  };
}
