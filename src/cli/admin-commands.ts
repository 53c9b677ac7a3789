import type { Command } from 'commander';
import { AdminClient } from '../admin/admin-client.js';
import { defaultAdminSocketPath } from '../admin/config.js';
import { AdminCommandError, AdminNotRunningError } from '../admin/errors.js';
import { formatDrain, formatReload, formatStatus } from '../admin/status-view.js';
import { CliError, EXIT_BAD_INPUT } from './cli-error.js';
import { parsePositiveInt } from './options.js';

/** Exit status when the switch is not there or failed the command (bad input is EXIT_BAD_INPUT). */
const EXIT_FAILURE = 1;
/** ConfigError's code: the new configuration does not validate. */
const CONFIG_INVALID = 'CONFIG_INVALID';

interface AdminOptions {
  socket: string;
  json?: boolean;
  timeout?: number;
}

async function withSwitch<T>(options: AdminOptions, run: (client: AdminClient) => Promise<T>): Promise<T> {
  let client: AdminClient;
  try {
    client = await AdminClient.connect(options.socket, options.timeout === undefined ? {} : { commandTimeoutMs: options.timeout });
  } catch (error) {
    if (error instanceof AdminNotRunningError) throw new CliError(error.message, EXIT_FAILURE);
    throw error;
  }
  try {
    return await run(client);
  } catch (error) {
    if (error instanceof AdminCommandError) {
      if (error.code === CONFIG_INVALID) {
        throw new CliError(`the new configuration is refused, the running one is unchanged: ${error.message}`, EXIT_BAD_INPUT);
      }
      throw new CliError(`${error.message} (${error.code})`, EXIT_FAILURE);
    }
    throw error;
  } finally {
    await client.close();
  }
}

function print(options: AdminOptions, value: unknown, text: string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : text);
}

function adminCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option('--socket <path>', 'admin socket of the running switch (or JHT_ADMIN_SOCKET)', defaultAdminSocketPath())
    .option('--json', 'print the answer as JSON')
    .option('--timeout <ms>', 'how long to wait for the answer', parsePositiveInt);
}

/** `status`, `drain` and `reload`: a running switch, through its admin socket. */
export function registerAdminCommands(program: Command): void {
  adminCommand(program, 'status', 'show a running switch: partners, connections and sign-on, breaker, journal, recent TPS and latency')
    .action(async (options: AdminOptions) => {
      const report = await withSwitch(options, (client) => client.status());
      print(options, report, formatStatus(report));
    });

  adminCommand(program, 'drain', 'stop accepting and finish in-flight work; the process keeps running (hand-over)')
    .action(async (options: AdminOptions) => {
      const result = await withSwitch(options, (client) => client.drain());
      print(options, result, formatDrain(result));
    });

  adminCommand(program, 'reload', 're-read the configuration: unchanged partners keep their connections; an invalid one is refused (exit 2)')
    .action(async (options: AdminOptions) => {
      const result = await withSwitch(options, (client) => client.reload());
      print(options, result, formatReload(result));
    });
}
