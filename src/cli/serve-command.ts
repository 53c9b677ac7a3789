import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { assertAdminSocketFree } from '../admin/admin-server.js';
import { startOperations, type Operations } from '../admin/operations.js';
import { createSwitchMetrics } from '../observability/metrics.js';
import { startRestChannel, type RunningRest } from '../channels/rest/rest-channel.js';
import { startSwitch, type RunningSwitch } from '../channels/atm/jht-switch.js';
import { parsePort } from './options.js';
import { checkRootFor, refuseRoot, rootPolicy } from './root-guard.js';

/** A repeated signal forces exit only when it comes this long after the first. */
const FORCE_AFTER_MS = 2_000;
/** Exit statuses: 0 after a clean stop; these otherwise (README, "Operations"). */
export const EXIT_UNCLEAN = 3;
const EXIT_FORCED = 130;
const DEADLINE_SLACK_MS = 2_000;
const LINGER_MS = 1_000;

/** Stops everything and writes the last log line, counting what never reached the database. */
async function finish(running: RunningSwitch, rest: RunningRest | undefined, operations: Operations, log: Logger): Promise<number> {
  // The REST listener first: its in-flight inquiries still need the ledger and the journal.
  const restFailed = await rest?.close().then(() => false, (error: unknown) => (log.error({ err: error }, 'shutdown: closing the REST listener failed'), true));
  const report = await running.stop();
  if (restFailed) report.failed.push('rest');
  try {
    await operations.close();
  } catch (error) {
    report.failed.push('operations');
    log.error({ err: error }, 'shutdown: closing the admin socket and metrics failed');
  }
  const clean = report.failed.length === 0 && report.unwritten.journal === 0;
  const summary = { clean, failedSteps: report.failed, unwrittenJournalRows: report.unwritten.journal, ms: report.ms };
  if (clean) log.info(summary, 'stopped');
  else log.error(summary, 'stopped, not cleanly: what was not written is counted here');
  return clean ? 0 : EXIT_UNCLEAN;
}

interface ServeOptions {
  config?: string;
  host?: string;
  port?: number;
  dataDir?: string;
  seedDemo?: boolean;
  pretty?: boolean;
  allowRoot?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the switch (embedded PostgreSQL with the demo data unless DATABASE_URL is set)')
    .option('-c, --config <file>', 'partner/switch configuration, JSON or YAML (or JHT_CONFIG)')
    .option('--host <host>', 'shared listener host (default 127.0.0.1)')
    .option('--port <port>', 'shared listener port (default 8583)', parsePort)
    .option('--data-dir <dir>', 'embedded PostgreSQL data directory (default .data/postgres)')
    .option('--seed-demo', 'seed the demo data (embedded; an external database: jht-switch migrate --seed-demo)')
    .option('--pretty', 'human-readable logs (pino-pretty)')
    .option('--allow-root', 'run as root on a real database (containers, CI; or JHT_ALLOW_ROOT=1)')
    .action(async (options: ServeOptions) => {
      const sources = {
        file: options.config,
        overrides: { host: options.host, port: options.port, dataDir: options.dataDir, seedDemo: options.seedDemo },
      };
      const config = loadConfig(sources);
      const root = rootPolicy(options.allowRoot);
      // An external database is real: refused before anything starts. The embedded one is known after it opens.
      if (config.database.url) refuseRoot(root, 'serve');
      // Human-readable logs for a developer at a terminal; JSON lines everywhere else (and always in production).
      const development = process.env.NODE_ENV !== 'production' && process.stdout.isTTY === true;
      const log = createLogger({ level: config.log.level, pretty: options.pretty ?? (config.log.pretty || development) });
      // A second instance stops here, before it touches the database or a partner's port.
      await assertAdminSocketFree(config.admin.socketPath);
      const metrics = createSwitchMetrics();
      const running = await startSwitch(config, log, {
        observer: metrics, reloadConfig: () => loadConfig(sources), checkDatabase: (database) => checkRootFor(database, root, 'serve', log),
      });
      const rest = await startRestChannel(config, {
        pool: running.database.pool, guard: (work) => running.ledger.guard(work), keys: running.database.keys,
        deployment: running.database.deployment, instanceId: running.instanceId, journal: running.journal, log, registry: metrics.registry,
      }).catch(async (error: unknown) => {
        await running.stop();
        throw error;
      });
      const operations = await startOperations({
        running, metrics, log, admin: config.admin, http: config.metrics, ledgerTimeoutMs: config.ledger.timeoutMs,
      }).catch(async (error: unknown) => {
        await rest?.close();
        await running.stop();
        throw error;
      });
      const port = running.network.sharedListener?.port ?? config.listen.port;
      const listening = running.network.listeners().map((l) => `  ${l.host}:${l.port}  ${l.partners.join(', ')}`).join('\n');
      process.stderr.write(
        `\njht-switch is listening (ISO 8583):\n${listening}\n` +
          `Try it from another terminal:\n` +
          `  npx jht-switch atm --port ${port} --pan 6040990000000001       # BUDI SANTOSO, approved\n` +
          `  npx jht-switch atm --port ${port} --account 1234567890         # the same participant by account\n` +
          `  npx jht-switch atm --port ${port} --pan 6040990000000092       # not linked: 14\n` +
          (rest ? `REST API: ${rest.url}/v1/balance-inquiries (docs ${rest.url}/docs)` +
            (rest.devIssuer ? `; a demo token: npx jht-switch token --scope jht:balance:self --subject 12000000001\n` : '\n') : '') +
          (operations.http ? `Operations: http://${operations.http.host}:${operations.http.port}/metrics, /healthz, /readyz\n` : '') +
          `  npx jht-switch status | drain | reload   (admin socket ${operations.admin.socketPath})\n` +
          `Stop with Ctrl-C (in-flight requests are answered and journaled first).\n\n`,
      );
      await new Promise<void>((resolve) => {
        let firstSignalAt = 0;
        const onSignal = (signal: NodeJS.Signals): void => {
          // Ctrl-C reaches npm, tsx and node alike and wrappers relay it, so one key press can arrive twice:
          // only a signal repeated after a pause means "stop now".
          if (firstSignalAt !== 0) {
            if (Date.now() - firstSignalAt < FORCE_AFTER_MS) return;
            log.warn({ signal }, 'signal repeated: exiting without finishing the shutdown');
            process.exit(EXIT_FORCED);
          }
          firstSignalAt = Date.now();
          log.info({ signal }, 'shutting down');
          // The shutdown's own deadline bounds every step; this one catches a step that ignores it.
          setTimeout(() => {
            log.fatal({ deadlineMs: config.shutdown.deadlineMs }, 'shutdown deadline passed: exiting');
            process.exit(EXIT_UNCLEAN);
          }, config.shutdown.deadlineMs + DEADLINE_SLACK_MS).unref();
          void finish(running, rest, operations, log).then((code) => {
            process.exitCode = code;
            // A handle left open (a socket a peer keeps) must not keep a stopped switch alive.
            setTimeout(() => process.exit(), LINGER_MS).unref();
            resolve();
          });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        // As for nginx or HAProxy: SIGHUP reloads the configuration (the same path as `jht-switch reload`).
        process.on('SIGHUP', () => {
          log.info('SIGHUP: reloading the configuration');
          running.reload().catch((error: unknown) => log.error({ err: error }, 'reload refused; the running configuration stays'));
        });
      });
    });
}
