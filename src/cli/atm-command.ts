import type { Command } from 'commander';
import { AtmHost } from '../client/atm-host.js';
import { balanceInquiry } from '../client/atm-messages.js';
import { IsoClientError } from '../client/iso-client.js';
import type { IsoMessage } from '../iso8583/index.js';
import { maskAccount, maskPan } from '../iso8583/index.js';
import { formatRupiah, parseAdditionalAmounts } from '../iso8583/vocabulary/index.js';
import { describeResponseCode, ResponseCode } from '../iso8583/vocabulary/index.js';
import { CliError, firstStdinLine } from './cli-error.js';
import { parseCount, parseDigits, parsePort, parsePositiveInt } from './options.js';

/** `--pan -` / `--account -`: the number comes from standard input, so it shows neither in `ps` nor in the shell's history. */
const FROM_STDIN = '-';

interface AtmOptions {
  host: string;
  port: number;
  pan?: string;
  account?: string;
  acquirer: string;
  terminal: string;
  profile: string;
  count: number;
  concurrency: number;
  timeout: number;
  repeats: number;
}

function asOfText(yyyymmdd: string): string {
  const date = new Date(`${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}T00:00:00Z`);
  return date.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

/** What an ATM screen would show for one answer. */
export function describeAnswer(response: IsoMessage): string {
  const code = response.get(39) ?? '??';
  if (code !== ResponseCode.Approved) return `Refused: ${code} (${describeResponseCode(code)})`;
  const data = response.get(48) ?? '';
  const balance = parseAdditionalAmounts(response.get(54) ?? '');
  return [
    'Approved (00)',
    `  Participant  ${data.slice(11, 41).trim()}`,
    `  KPJ          ${data.slice(0, 11)}`,
    `  JHT balance  ${balance ? formatRupiah(balance.availableSen) : '(field 54 unreadable)'}`,
    `  As of        ${data.length >= 49 ? asOfText(data.slice(41, 49)) : '?'}`,
  ].join('\n');
}

async function runMany(client: AtmHost, options: AtmOptions): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.count) {
      next++;
      const { response } = await client.inquire(balanceInquiry({ ...options, acquirerId: options.acquirer, terminalId: options.terminal, stan: client.nextStan() }));
      const code = response.get(39) ?? '??';
      counts.set(code, (counts.get(code) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  return counts;
}

function orStdin(parse: (value: string) => string): (value: string) => string {
  return (value) => (value === FROM_STDIN ? value : parse(value));
}

/** The first line of standard input, as digits; the error never repeats what was read. */
async function digitsFromStdin(option: string, max: number): Promise<string> {
  const value = await firstStdinLine();
  if (!new RegExp(`^\\d{1,${max}}$`).test(value)) throw new CliError(`${option} -: standard input must hold 1 to ${max} digits`);
  return value;
}

export function registerAtmCommand(program: Command): void {
  program
    .command('atm')
    .description('ATM simulator: sign on, send a JHT balance inquiry and show the answer')
    .option('--host <host>', 'switch host', '127.0.0.1')
    .option('--port <port>', 'switch port', parsePort, 8583)
    .option('--pan <pan>', 'card number (field 2); - reads it from standard input', orStdin(parseDigits(19)))
    .option('--account <account>', 'account number (field 102); - reads it from standard input', orStdin(parseDigits(28)))
    .option('--acquirer <id>', 'acquirer institution ID (field 32)', parseDigits(11), '99901')
    .option('--terminal <id>', 'terminal ID (field 41)', 'JHTATM01')
    .option('-p, --profile <name>', 'packager profile', 'iso87-ascii')
    .option('--count <n>', 'inquiries to send', parsePositiveInt, 1)
    .option('--concurrency <n>', 'inquiries in flight at once', parsePositiveInt, 1)
    .option('--timeout <ms>', 'answer timeout; an unanswered request is then repeated (0201)', parsePositiveInt, 10_000)
    .option('--repeats <n>', 'repeats (0201) of an unanswered request, across reconnects', parseCount, 3)
    .action(async (options: AtmOptions) => {
      if ((options.pan === undefined) === (options.account === undefined)) throw new CliError('give exactly one of --pan or --account');
      if (options.pan === FROM_STDIN) options.pan = await digitsFromStdin('--pan', 19);
      if (options.account === FROM_STDIN) options.account = await digitsFromStdin('--account', 28);
      const client = await AtmHost.open({
        host: options.host, port: options.port, profile: options.profile, timeoutMs: options.timeout, maxRepeats: options.repeats,
        connectDeadlineMs: options.timeout,
        onEvent: (event) => {
          if (event.type === 'repeat') process.stderr.write(`no answer (${event.reason}): repeating as ${event.mti}, attempt ${event.attempt}\n`);
        },
      }).catch((error: unknown) => {
        if (error instanceof IsoClientError && error.code === 'CLIENT_SIGN_ON_REFUSED') throw new CliError(error.message, 1);
        throw error;
      });
      try {
        const who = options.pan !== undefined ? `card ${maskPan(options.pan)}` : `account ${maskAccount(options.account!)}`;
        if (options.count === 1) {
          const { response } = await client.inquire(balanceInquiry({ ...options, acquirerId: options.acquirer, terminalId: options.terminal, stan: client.nextStan() }));
          process.stdout.write(`JHT balance inquiry for ${who}\n${describeAnswer(response)}\n`);
          if (response.get(39) !== ResponseCode.Approved) process.exitCode = 1;
          return;
        }
        const started = process.hrtime.bigint();
        const counts = await runMany(client, options);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        process.stdout.write(`${options.count} inquiries for ${who} in ${seconds.toFixed(2)} s (${(options.count / seconds).toFixed(0)}/s)\n`);
        for (const [code, n] of [...counts].sort()) process.stdout.write(`  ${code} ${describeResponseCode(code).padEnd(50)} ${n}\n`);
        if ([...counts.keys()].some((code) => code !== ResponseCode.Approved)) process.exitCode = 1;
      } finally {
        await client.close();
      }
    });
}
