import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { warnInsecureLinks } from '../../config/check-links.js';
import type { SwitchConfig } from '../../config/schema.js';
import { JournalWriter, keepJournalPartitions } from '../../journal/index.js';
import { ClaimStore } from '../../inquiry/index.js';
import { AtmClaims } from './transaction-key.js';
import { LedgerReader, openDatabase, type DatabaseHandle } from '../../ledger/index.js';
import type { Logger } from '../../observability/logger.js';
import { readConfiguredKeys } from '../../security/keys/index.js';
import type { Listener } from '../../transport/index.js';
import { NO_OBSERVER, type SwitchObserver } from '../../observability/observer.js';
import type { ReloadResult, SwitchControl, SwitchStatus } from './control.js';
import { DialOutLeadership } from './dial-out-leader.js';
import { PartnerNetwork } from './partner-network.js';
import { partnerMacKeys } from './partner-runtime.js';
import { runShutdown, type ShutdownOutcome } from './shutdown.js';
import type { SwitchServices } from './transaction.js';

export interface RunningSwitch extends SwitchControl {
  readonly config: SwitchConfig;
  /** The shared listener (127.0.0.1:8583 by default), when some partner uses it. */
  readonly listener: Listener;
  readonly network: PartnerNetwork;
  readonly database: DatabaseHandle;
  readonly ledger: LedgerReader;
  readonly journal: JournalWriter;
  readonly transactionKeys: AtmClaims;
  readonly instanceId: string;
  /**
   * Graceful, within `config.shutdown.deadlineMs`: stop accepting, answer what is in flight, write the journal
   * and the stored answers, close the ledger, stop the embedded database. Every step runs even if one fails.
   */
  stop(): Promise<StopReport>;
}

export interface StopReport extends ShutdownOutcome {
  /**
   * Journal rows that never reached the database (dropped, or still queued at the deadline). Stored answers
   * cannot be among them: an answer is sent only after it is durable.
   */
  unwritten: { journal: number };
}

export interface StartOptions {
  /** An already-open database (tests share one); the switch then leaves it running on stop. */
  database?: DatabaseHandle;
  /** Metrics and other watchers of what happens. */
  observer?: SwitchObserver;
  /** Where `reload` reads the configuration again; without it reload re-applies the current one. */
  reloadConfig?: () => SwitchConfig;
  /** Runs once the database is open, before anything listens; a throw stops the start (`serve`'s root check). */
  checkDatabase?: (database: DatabaseHandle) => void;
}

const GRACE_MS = 10_000;
/** Duplicate-detection keys are kept this long: a retransmission comes within seconds, and field 7 has no year. */
const KEY_RETENTION_MS = 3 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Opens the pool's connections before the first ATM does: connecting and authenticating costs tens of
 * milliseconds each, which would otherwise land on the first requests and could cost them their budget.
 */
async function warmPool(database: DatabaseHandle, size: number, log: Logger): Promise<void> {
  const clients = await Promise.all(Array.from({ length: size }, () => database.pool.connect()));
  await Promise.all(clients.map((client) => client.query('SELECT 1')));
  for (const client of clients) client.release();
  log.debug({ connections: size }, 'database pool warmed up');
}

/** Settings a reload cannot change on a running switch (they shape the database and the pipeline). */
function restartOnlyChanges(running: SwitchConfig, next: SwitchConfig): string[] {
  const keys = ['database', 'ledger', 'keys', 'journal', 'transport', 'channels'] as const;
  return keys.filter((k) => JSON.stringify(running[k]) !== JSON.stringify(next[k]));
}

export async function startSwitch(config: SwitchConfig, log: Logger, options: StartOptions = {}): Promise<RunningSwitch> {
  const instanceId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const startedAt = new Date();
  // A partner's MAC key file that is missing or wrong stops the start before the database is touched.
  partnerMacKeys(config);
  warnInsecureLinks(config, log);
  const ownsDatabase = options.database === undefined;
  const database = options.database ?? await openDatabase({
    ...(config.database.url ? { databaseUrl: config.database.url } : {}),
    dataDir: config.database.dataDir,
    port: config.database.embeddedPort,
    ...(config.database.seedDemo ? { seedDemo: true } : {}),
    // Fails closed: the development key only on the embedded demo (SECURITY.md, "Key loading").
    keys: readConfiguredKeys(config.keys),
    log,
    // Idle connections stay open: a quiet night must not make the next ATM pay for reconnecting.
    pool: { max: config.database.poolSize, idleTimeoutMillis: 0 },
    // The embedded server looks for tables to analyse every 10 s rather than every minute (see migration 003).
    serverSettings: { autovacuum_naptime: '10s' },
  });
  try {
    options.checkDatabase?.(database);
  } catch (error) {
    if (ownsDatabase) await database.stop();
    throw error;
  }
  await warmPool(database, config.database.poolSize, log);
  const { keys } = database;
  // This month's and the next months' journal partitions, now and daily (src/journal/partitions.ts).
  const partitions = await keepJournalPartitions(database.pool, log).catch(async (error: unknown) => {
    if (ownsDatabase) await database.stop();
    throw error;
  });

  const ledger = new LedgerReader({
    keys,
    log,
    resetTimeoutMs: config.ledger.breakerResetMs,
    errorThresholdPercentage: config.ledger.breakerErrorPercentage,
    volumeThreshold: config.ledger.breakerVolumeThreshold,
  });
  const transactionKeys = new AtmClaims(new ClaimStore(database.pool, {
    instanceId, logger: log, batchWindowMs: config.ledger.batchWindowMs, guard: (work) => ledger.guard(work),
  }));
  const journal = new JournalWriter(database.pool, {
    instanceId,
    logger: log,
    flushIntervalMs: config.journal.flushIntervalMs,
    maxBatchSize: config.journal.maxBatch,
    commitWindowMs: config.ledger.batchWindowMs,
    guard: (work) => ledger.guard(work),
  });
  const services: SwitchServices = { ledger, transactionKeys, keys, ledgerTimeoutMs: config.ledger.timeoutMs, log };
  const leadership = new DialOutLeadership({ pool: database.pool, log });
  const network = new PartnerNetwork({ services, journal, log, observer: options.observer ?? NO_OBSERVER, leadership });
  await network.start(config);
  let current = config;
  for (const l of network.listeners()) log.info({ host: l.host, port: l.port, partners: l.partners }, 'switch listening');

  const status = (): SwitchStatus => ({
    instanceId,
    startedAt: startedAt.toISOString(),
    accepting: network.accepting,
    listeners: network.listeners(),
    partners: network.status(),
    breaker: ledger.state,
    journalQueueDepth: journal.queueDepth,
    inFlight: network.inFlight,
  });

  const reload = async (): Promise<ReloadResult> => {
    // loadConfig throws a ConfigError for a bad file: nothing below runs, the running config stays.
    const next = options.reloadConfig ? options.reloadConfig() : current;
    const ignored = restartOnlyChanges(current, next);
    if (ignored.length > 0) log.warn({ settings: ignored }, 'reload: these settings only change on restart');
    const result = await network.apply(next);
    current = { ...current, listen: next.listen, partners: next.partners };
    log.info(result, 'configuration reloaded');
    return result;
  };

  const drain = async (): Promise<void> => {
    log.info('draining: no new connections; finishing what is in flight');
    await network.closeAll(GRACE_MS);
    await journal.flush();
    log.info('drained');
  };

  // txn_key grows by every inquiry; old keys go (the journal keeps every transaction).
  const pruneKeys = setInterval(() => {
    transactionKeys.pruneCreatedBefore(new Date(Date.now() - KEY_RETENTION_MS)).then(
      (removed) => removed > 0 && log.info({ removed }, 'old duplicate-detection keys removed'),
      (error: unknown) => log.warn({ err: error }, 'could not remove old duplicate-detection keys; will try again'),
    );
  }, PRUNE_EVERY_MS);
  pruneKeys.unref();

  let stopping: Promise<StopReport> | undefined;
  const stop = (): Promise<StopReport> => {
    stopping ??= (async () => {
      clearInterval(pruneKeys);
      partitions.stop();
      const { deadlineMs } = config.shutdown;
      log.info({ deadlineMs }, 'stopping: no new connections; answering what is in flight');
      const outcome = await runShutdown([
        // Half the time for the partners' in-flight requests: their answers' journal rows still need the rest.
        { name: 'connections', run: (left) => network.closeAll(Math.min(GRACE_MS, Math.floor(left / 2))) },
        { name: 'dial-out leadership', run: () => leadership.stop() },
        { name: 'duplicate keys', run: async () => transactionKeys.close() },
        { name: 'journal', run: (left) => journal.close(left) },
        { name: 'ledger', run: () => ledger.close() },
        ...(ownsDatabase ? [{ name: 'database', run: () => database.stop() }] : []),
      ], deadlineMs, log);
      return {
        ...outcome,
        unwritten: { journal: journal.queueDepth + journal.droppedCount },
      };
    })();
    return stopping;
  };

  return {
    get config() {
      return current;
    },
    get listener() {
      const shared = network.sharedListener;
      if (!shared) throw new Error('no partner uses the shared listener');
      return shared;
    },
    network,
    database,
    ledger,
    journal,
    transactionKeys,
    instanceId,
    status,
    drain,
    reload,
    stop,
  };
}
