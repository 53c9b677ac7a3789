import type { Command } from 'commander';
import { changeLink, LinkBusyError, LinkNotFoundError, type LinkAction } from '../ledger/link-change.js';
import { currentOperator } from '../ledger/operator.js';
import { linkNumber } from '../ledger/import/index.js';
import { readParticipant, type ParticipantView } from '../ledger/participant-view.js';
import { formatRupiah } from '../iso8583/vocabulary/index.js';
import { CliError, EXIT_BAD_INPUT, firstStdinLine } from './cli-error.js';
import { dataCommandOptions, withDataSession, type DataOptions } from './data-options.js';

/** Exit status when the ledger refused the change for now (an import holds the rows): try again. */
const EXIT_BUSY = 1;

interface LinkOptions extends DataOptions {
  account?: boolean;
}

/** `participant show KPJ` and `link block|unblock|remove` (README, "Support"). */
export function registerSupportCommands(program: Command): void {
  const participant = program.command('participant').description('participants (support)');
  dataCommandOptions(participant
    .command('show')
    .description('the participant, masked contacts, masked links with their status, and the balance with its as-of date')
    .argument('<kpj>', 'the 11-digit KPJ number'))
    .action(async (kpj: string, options: DataOptions) => {
      if (!/^[0-9]{11}$/.test(kpj)) throw new CliError('KPJ: not 11 digits');
      await withDataSession(options, async ({ database }) => {
        const view = await readParticipant(database.pool, kpj);
        if (!view) throw new CliError(`no participant ${kpj}`, EXIT_BAD_INPUT);
        process.stdout.write(formatParticipant(view));
      });
    });

  const link = program.command('link').description('card and account links (support): the number is read from standard input');
  for (const action of ['block', 'unblock', 'remove'] as const satisfies readonly LinkAction[]) {
    dataCommandOptions(link
      .command(action)
      .description(`${action} a card link (or --account); the number is read from standard input, never from an argument`)
      .option('--account', 'the number is an account number (field 102), not a card'))
      .action(async (options: LinkOptions) => {
        const kind = options.account ? 'ACCOUNT' : 'CARD';
        if (process.stdin.isTTY) process.stderr.write('number: ');
        const parsed = linkNumber(kind, await firstStdinLine());
        if ('reason' in parsed) throw new CliError(`standard input: ${parsed.reason}`);
        await withDataSession(options, async ({ database, keys }) => {
          try {
            const operator = currentOperator();
            const result = await changeLink(database.pool, keys, kind, parsed.number, action, operator);
            process.stdout.write(`${result.kind} ending ${result.last4} of ${result.kpj}: ${result.from} -> ${result.to} ` +
              `(journaled, uid ${operator.uid}); the next inquiry sees it\n`);
          } catch (error) {
            if (error instanceof LinkNotFoundError) throw new CliError(error.message, EXIT_BAD_INPUT);
            if (error instanceof LinkBusyError) throw new CliError(error.message, EXIT_BUSY);
            throw error;
          }
        });
      });
  }
}

function formatParticipant(view: ParticipantView): string {
  const masked = (last4: string | null): string => (last4 ? `…${last4}` : '-');
  const lines = [
    `KPJ      ${view.kpj}`,
    `name     ${view.name}`,
    `status   ${view.status}`,
    `NIK      ${masked(view.nikLast4)}`,
    `MSISDN   ${masked(view.msisdnLast4)}`,
    `e-mail   ${view.emailMasked ?? '-'}`,
    `balance  ${formatRupiah(view.balanceSen)}${view.asOf ? ` as of ${view.asOf}` : ' (no postings yet)'}`,
    `links    ${view.links.length === 0 ? 'none' : ''}`,
    ...view.links.map((l) => `  ${l.kind.padEnd(8)}…${l.last4.padEnd(5)}${l.status.padEnd(9)}${l.issuer ? `issuer ${l.issuer}` : ''}`.trimEnd()),
  ];
  return `${lines.join('\n')}\n`;
}
