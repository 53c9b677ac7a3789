import { createHmac, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { PartnerConfig, SwitchConfig } from '../config/schema.js';
import { Packager, loadProfile } from '../iso8583/index.js';
import { JournalWriter, TransactionKeyStore } from '../journal/index.js';
import { DEV_CARD_KEY, LedgerReader, isDevCardKey, openDatabase, type DatabaseHandle } from '../ledger/index.js';
import type { Logger } from '../observability/logger.js';
import { AllowList } from '../transport/allow-list.js';
import { createFraming } from '../transport/framing/index.js';
import { startListener, type Listener } from '../transport/server.js';
import { createConnectionHandler, type ConnectionHandlerDeps } from './connection-handler.js';
import { Session } from './session.js';
import type { SwitchServices } from './transaction.js';

export interface RunningSwitch {
  readonly config: SwitchConfig;
  /** The shared listener (127.0.0.1:8583 by default); port resolved when 0 was asked for. */
  readonly listener: Listener;
  readonly database: DatabaseHandle;
  readonly ledger: LedgerReader;
  readonly journal: JournalWriter;
  readonly transactionKeys: TransactionKeyStore;
  readonly instanceId: string;
  /** Graceful: stop accepting, answer what is in flight, flush the journal, stop the embedded database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** An already-open database (tests share one); the switch then leaves it running on stop. */
  database?: DatabaseHandle;
}

function cardKeyOf(config: SwitchConfig, log: Logger): Buffer {
  const key = config.cardKey ? Buffer.from(config.cardKey, 'hex') : DEV_CARD_KEY;
  if (isDevCardKey(key)) {
    log.warn('using the DEVELOPMENT card key: card and account hashes are not secret. Set JHT_CARD_KEY (hex) in production');
  }
  return key;
}

/** A separate key for request digests, so the card-hash key is never used for two purposes. */
function digestKeyOf(cardKey: Buffer): Buffer {
  return createHmac('sha256', cardKey).update('jht-switch/request-digest/v1').digest();
}

/** Partners on the shared listener are recognised by source address (config guarantees no overlap). */
function sharedListenerPartners(config: SwitchConfig): { partner: PartnerConfig; allowList: AllowList }[] {
  return config.partners
    .filter((p) => !p.listener && !p.dialOut)
    .map((partner) => ({ partner, allowList: new AllowList(partner.allowFrom) }));
}

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

export async function startSwitch(config: SwitchConfig, log: Logger, options: StartOptions = {}): Promise<RunningSwitch> {
  const instanceId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const cardKey = cardKeyOf(config, log);
  const ownsDatabase = options.database === undefined;
  const database = options.database ?? await openDatabase({
    ...(config.database.url ? { databaseUrl: config.database.url } : {}),
    dataDir: config.database.dataDir,
    port: config.database.embeddedPort,
    ...(config.database.seedDemo ? { seedDemo: true } : {}),
    cardKey,
    log,
    // Idle connections stay open: a quiet night must not make the next ATM pay for reconnecting.
    pool: { max: config.database.poolSize, idleTimeoutMillis: 0 },
  });

  await warmPool(database, config.database.poolSize, log);
  const ledger = new LedgerReader(database.pool, {
    cardKey,
    log,
    timeoutMs: config.ledger.timeoutMs,
    resetTimeoutMs: config.ledger.breakerResetMs,
    errorThresholdPercentage: config.ledger.breakerErrorPercentage,
    volumeThreshold: config.ledger.breakerVolumeThreshold,
  });
  const transactionKeys = new TransactionKeyStore(database.pool, { instanceId, logger: log });
  const journal = new JournalWriter(database.pool, {
    instanceId,
    logger: log,
    flushIntervalMs: config.journal.flushIntervalMs,
    maxBatchSize: config.journal.maxBatch,
  });
  const services: SwitchServices = { ledger, transactionKeys, digestKey: digestKeyOf(cardKey), ledgerTimeoutMs: config.ledger.timeoutMs, log };

  const shared = sharedListenerPartners(config);
  const packagers = new Map<string, Packager>();
  const packagerFor = (profile: string): Packager => {
    let packager = packagers.get(profile);
    if (!packager) packagers.set(profile, (packager = new Packager(loadProfile(profile))));
    return packager;
  };
  const deps = (partner: PartnerConfig): ConnectionHandlerDeps => ({ packager: packagerFor(partner.profile), services, journal, log });

  const listener = await startListener({
    host: config.listen.host,
    port: config.listen.port,
    framing: createFraming('binary-2'),
    maxFrameBytes: config.transport.maxFrameBytes,
    idleTimeoutMs: config.transport.idleTimeoutMs,
    maxGarbageFrames: config.transport.maxGarbageFrames,
    // The partner is known only after accept; the listener reads up to the most generous partner's limit.
    maxInFlight: Math.max(...shared.map(({ partner }) => partner.limits.maxInFlight)),
    maxConnections: shared.reduce((sum, { partner }) => sum + partner.limits.maxConnections, 0),
    allowList: shared.flatMap(({ partner }) => partner.allowFrom),
    logger: log,
    onConnection(connection) {
      const remote = connection.peer.remoteAddress;
      const match = shared.find(({ allowList }) => allowList.allows(remote))!;
      const session = new Session(connection.id, match.partner, remote);
      log.info({ partner: match.partner.id, connection: connection.id, remote }, 'partner connected');
      return createConnectionHandler(session, deps(match.partner));
    },
  });
  log.info({ host: listener.host, port: listener.port, partners: config.partners.map((p) => p.id), database: database.connectionString }, 'switch listening');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping: no new connections; answering what is in flight');
      listener.close();
      await listener.closeAll({ graceMs: 10_000 });
      await transactionKeys.close();
      await journal.close();
      await ledger.close();
      if (ownsDatabase) await database.stop();
      log.info('stopped');
    })();
    return stopping;
  };

  return { config, listener, database, ledger, journal, transactionKeys, instanceId, stop };
}
