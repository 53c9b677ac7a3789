import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { FILE_KINDS, ImportError, MAX_ERRORS_SHOWN, formatRowError, runImport, type ImportSummary } from '../ledger/import/index.js';
import { CliError, EXIT_BAD_INPUT } from './cli-error.js';
import { dataCommandOptions, withDataSession, type DataOptions } from './data-options.js';

interface ImportOptions extends DataOptions {
  initial?: boolean;
  dryRun?: boolean;
}

/** `jht-switch import participants|links|postings FILE|-` (specs/DATA-FILES.md). */
export function registerImportCommand(program: Command): void {
  dataCommandOptions(program
    .command('import')
    .description('import a data file (participants, links or postings: specs/DATA-FILES.md); one transaction per file')
    .argument('<kind>', 'participants | links | postings')
    .argument('<file>', 'the CSV file, or - for standard input')
    .option('--initial', 'bulk mode for the first load of an empty ledger (the demo data aside)')
    .option('--dry-run', 'check and count everything, apply nothing'))
    .action(async (kindName: string, file: string, options: ImportOptions) => {
      const kind = FILE_KINDS[kindName as keyof typeof FILE_KINDS];
      if (!kind) throw new CliError(`unknown file kind ${JSON.stringify(kindName)}: participants, links or postings`);
      const size = file === '-' ? undefined : await stat(file).then((s) => s.size, (error: NodeJS.ErrnoException) => {
        throw new CliError(`cannot read ${file}: ${error.code ?? 'error'}`);
      });
      const fileName = file === '-' ? 'stdin' : file;
      const started = Date.now();
      await withDataSession(options, async ({ database, keys }) => {
        const progress = new Progress(size);
        try {
          const summary = await runImport(database.pool, {
            kind, fileName, key: keys.current, previousKey: keys.previous, input: progress.count(file === '-' ? process.stdin : createReadStream(file)),
            ...(options.initial ? { initial: true } : {}), ...(options.dryRun ? { dryRun: true } : {}),
            onProgress: (rows) => progress.rows(rows), onStaged: () => progress.stop(),
          });
          process.stdout.write(formatSummary(summary, Date.now() - started, options.dryRun ?? false));
        } catch (error) {
          progress.stop();
          if (error instanceof ImportError && error.rowErrors.length > 0) {
            const lines = error.rowErrors.map((row) => formatRowError(fileName, row));
            const more = error.total > MAX_ERRORS_SHOWN ? ` (the first ${MAX_ERRORS_SHOWN} are above)` : '';
            process.stderr.write(`${lines.join('\n')}\n`);
            throw new CliError(`${error.total} error(s)${more}: nothing of ${fileName} was applied`, EXIT_BAD_INPUT);
          }
          if (error instanceof ImportError) throw new CliError(error.message, EXIT_BAD_INPUT);
          throw error;
        }
      }, { writesData: !options.dryRun });
    });
}

/** What the command prints: counts, every move, time, rate and peak RSS. */
export function formatSummary(summary: ImportSummary, ms: number, dryRun: boolean): string {
  const seconds = ms / 1000;
  const changed = summary.inserted + summary.updated + summary.removed;
  const lines = [
    `${summary.file}: ${summary.rows} rows: ${summary.inserted} inserted, ${summary.updated} updated, ${summary.unchanged} unchanged, ` +
      `${summary.removed} removed, ${summary.moves.length} moved, ${summary.rekeyed} rekeyed`,
    ...summary.moves.map((move) => `  moved (line ${move.line}): ${move.kind} ending ${move.last4} from ${move.from} to ${move.to}`),
    `time ${seconds.toFixed(1)} s (${Math.round(summary.rows / Math.max(seconds, 0.001))} rows/s), ` +
      `peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB ` +
      `(read+hash+COPY ${summary.phasesMs.stage} ms, checks ${summary.phasesMs.check} ms, apply ${summary.phasesMs.apply} ms)`,
  ];
  if (dryRun) lines.push('dry run: nothing was applied');
  else if (changed === 0) lines.push('no change: the ledger already holds this file');
  return `${lines.join('\n')}\n`;
}

/** A progress bar on a terminal (bytes read, rows/s, ETA); nothing otherwise. */
class Progress {
  readonly #bar: SingleBar | undefined;
  #bytes = 0;
  #started = Date.now();
  #stopped = false;

  constructor(private readonly size: number | undefined) {
    if (!process.stderr.isTTY) return;
    this.#bar = new SingleBar({
      stream: process.stderr,
      format: size === undefined ? '{rows} rows | {rate} rows/s' : '[{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}',
      etaBuffer: 50,
      hideCursor: true,
    });
    this.#bar.start(size ?? 0, 0, { rows: 0, rate: 0 });
  }

  count(input: Readable): Readable {
    return input.pipe(new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.#bytes += chunk.length;
        done(null, chunk);
      },
    }));
  }

  rows(rows: number): void {
    if (this.#stopped) return;
    const seconds = (Date.now() - this.#started) / 1000;
    this.#bar?.update(this.size === undefined ? 0 : this.#bytes, { rows, rate: Math.round(rows / Math.max(seconds, 0.001)) });
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (!this.#bar) return;
    this.#bar.stop();
    process.stderr.write('checking and applying the file in one transaction...\n');
  }
}
