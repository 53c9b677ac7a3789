/**
 * `jht-switch load` in a process of its own, for the benchmark (and the tests) to drive a server from
 * another core. The same command code as the CLI's: `node --import tsx scripts/bench/load-cli.ts --max ...`
 * is `jht-switch load --max ...`.
 */
import { Command, CommanderError } from 'commander';
import { describeError } from '../../src/cli/cli-error.js';
import { registerLoadCommand } from '../../src/cli/load-command.js';

const program = new Command('jht-switch').exitOverride();
registerLoadCommand(program);
try {
  await program.parseAsync(['load', ...process.argv.slice(2)], { from: 'user' });
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    const { line, exitCode } = describeError(error);
    process.stderr.write(`${line}\n`);
    process.exitCode = exitCode;
  }
}
