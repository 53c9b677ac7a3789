import { createInterface } from 'node:readline';
import { ConfigError } from '../config/load-config.js';
import { Iso8583Error, ProfileError } from '../iso8583/index.js';
import { DataKeyNotHeldError, DataKeyRetireError, DatabaseRoleError, DemoSeedRefusedError, SchemaVersionError } from '../ledger/errors.js';
import { KeyLoadError } from '../security/keys/index.js';

/** Exit status for bad input (the data or the arguments), as opposed to 1 for a failure of the switch. */
export const EXIT_BAD_INPUT = 2;

/** An error that the CLI reports as one line on stderr with its exit status. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode = EXIT_BAD_INPUT) {
    super(message);
  }
}

/** One line naming what went wrong, with the codec's field number and offset when it has them. */
export function describeError(error: unknown): { line: string; exitCode: number } {
  if (error instanceof Iso8583Error) return { line: `error: ${error.message} (${error.code})`, exitCode: EXIT_BAD_INPUT };
  if (error instanceof ConfigError) return { line: `error: ${error.message}`, exitCode: EXIT_BAD_INPUT };
  if (error instanceof ProfileError) return { line: `error: ${error.message}`, exitCode: EXIT_BAD_INPUT };
  // The database is not fit for this command (its schema, the credentials given): fix it, not the switch.
  if (error instanceof SchemaVersionError || error instanceof DatabaseRoleError || error instanceof DemoSeedRefusedError) {
    return { line: `error: ${error.message}`, exitCode: EXIT_BAD_INPUT };
  }
  // No usable key, or not the keys this database was hashed under: fix the key files, not the switch.
  if (error instanceof KeyLoadError || error instanceof DataKeyNotHeldError || error instanceof DataKeyRetireError) {
    return { line: `error: ${error.message} (${error.code})`, exitCode: EXIT_BAD_INPUT };
  }
  if (error instanceof CliError) return { line: `error: ${error.message}`, exitCode: error.exitCode };
  return { line: `error: ${error instanceof Error ? error.message : String(error)}`, exitCode: 1 };
}

/** The first line of standard input, trimmed ('' when there is none): for numbers kept out of argv and history. */
export async function firstStdinLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin, terminal: false });
  const line = await new Promise<string>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(''));
  });
  lines.close();
  process.stdin.destroy();
  return line.trim();
}

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError('no input: give it as an argument or on standard input');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
