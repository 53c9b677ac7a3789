import { Command, CommanderError } from 'commander';
import { describeError } from './cli-error.js';
import { registerAdminCommands } from './admin-commands.js';
import { registerAtmCommand } from './atm-command.js';
import { registerCodecCommands } from './codec-commands.js';
import { registerJournalCommands } from './journal-command.js';
import { registerImportCommand } from './import-command.js';
import { registerLoadCommand } from './load-command.js';
import { registerKeysCommand } from './keys-command.js';
import { registerMigrateCommand } from './migrate-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerSupportCommands } from './support-commands.js';
import { registerTokenCommand } from './token-command.js';

function buildProgram(): Command {
  const program = new Command('jht-switch')
    .description('ISO 8583 switch for BPJS Ketenagakerjaan JHT balance inquiries at partner banks\' ATMs')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerServeCommand(program);
  registerMigrateCommand(program);
  registerJournalCommands(program);
  registerKeysCommand(program);
  registerAtmCommand(program);
  registerCodecCommands(program);
  registerAdminCommands(program);
  registerLoadCommand(program);
  registerTokenCommand(program);
  registerImportCommand(program);
  registerSupportCommands(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to commander; usage mistakes are bad input.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    const { line, exitCode } = describeError(error);
    process.stderr.write(`${line}\n`);
    process.exitCode = exitCode;
  }
}

await main(process.argv);
