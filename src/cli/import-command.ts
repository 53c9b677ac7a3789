import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { FILE_KINDS, ImportError, MAX_ERRORS_SHOWN, formatRowError, runImports, type FileKind, type ImportSummary, type RunImportOptions } from '../ledger/import/index.js';
import { CliError, EXIT_BAD_INPUT } from './cli-error.js';
import { dataCommandOptions, withDataSession, type DataOptions } from './data-options.js';

interface ImportOptions extends DataOptions {
  initial?: boolean;
  dryRun?: boolean;
}

/** One file of the command line: its kind, its path (or - for standard input) and its size, when known. */
interface FileArgument {
  kind: FileKind;
  file: string;
  fileName: string;
  size: number | undefined;
}

/**
 * After each full collection V8 lets the old generation grow to a multiple of what survived, a multiple it
 * raises while collections are cheap: up to about four times the 25 MB an import keeps live. So peak RSS grew
 * with the time a file took to read, not with anything the import holds (participants: 209 MB for 100
 * thousand rows, 274 MB for 2 million). V8 reads a fixed growth at every collection, so this command sets one
 * at run time, for itself alone: 30 % gave 177-184 against 189-195 MB, for more frequent full collections
 * (2 million participants in 35.5-38.4 s against 34.6-34.8 s; README, "National scale"). `serve` keeps V8's
 * growth: its heap does not churn through a file.
 */
function boundHeapGrowth(): void {
  setFlagsFromString('--heap-growing-percent=30');
}

/**
 * `jht-switch import KIND FILE [KIND FILE ...]` (specs/DATA-FILES.md). Each file is one transaction, committed
 * in the order given; the next file is staged while the ones before it are applied (runImports).
 */
export function registerImportCommand(program: Command): void {
  dataCommandOptions(program
    .command('import')
    .description('import data files (participants, links or postings: specs/DATA-FILES.md), committed in the order given; one transaction per file')
    .argument('<kind>', 'participants | links | postings')
    .argument('<file>', 'the CSV file, or - for standard input')
    .argument('[more...]', 'further KIND FILE pairs, committed in the order given; each is staged while the ones before it are applied')
    .option('--initial', 'bulk mode for the first load of an empty ledger (the demo data aside)')
    .option('--dry-run', 'check and count everything, apply nothing (one file only)'))
    .action(async (kindName: string, file: string, more: string[], options: ImportOptions) => {
      const files = await fileArguments([kindName, file, ...more]);
      if (options.dryRun && files.length > 1) {
        throw new CliError('--dry-run checks one file: a file checked against a ledger its predecessor did not change would mislead');
      }
      boundHeapGrowth();
      const started = Date.now();
      await withDataSession(options, async ({ database, keys }) => {
        // One progress bar a file, drawn while that file is staged (the files are staged one after another).
        const imports = files.map(({ kind, file: path, fileName, size }): RunImportOptions => {
          const progress = new Progress(fileName, size);
          return {
            kind, fileName, key: keys.current, previousKey: keys.previous,
            input: progress.count(path === '-' ? process.stdin : createReadStream(path)),
            ...(options.initial ? { initial: true } : {}), ...(options.dryRun ? { dryRun: true } : {}),
            onProgress: (rows) => progress.rows(rows), onStaged: () => progress.stop(),
            onWaiting: () => process.stderr.write(`${fileName}: another import holds the ledger: waiting for it to commit\n`),
          };
        });
        const applied: string[] = [];
        try {
          await runImports(database.pool, imports, (summary) => {
            applied.push(summary.file);
            if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K'); // under the next file's bar, which redraws below
            process.stdout.write(formatSummary(summary, options.dryRun ?? false));
          });
        } catch (error) {
          throw importFailure(error, files.map((f) => f.fileName), applied);
        }
        if (files.length > 1) process.stdout.write(`${files.length} files applied in ${((Date.now() - started) / 1000).toFixed(1)} s from command start\n`);
      }, { writesData: !options.dryRun });
    });
}

async function fileArguments(args: readonly string[]): Promise<FileArgument[]> {
  if (args.length % 2 !== 0) throw new CliError(`give each file after its kind: KIND FILE [KIND FILE ...] (${args.at(-1)} has no file)`);
  const files: FileArgument[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const [kindName, file] = [args[i]!, args[i + 1]!];
    const kind = FILE_KINDS[kindName as keyof typeof FILE_KINDS];
    if (!kind) throw new CliError(`unknown file kind ${JSON.stringify(kindName)}: participants, links or postings`);
    const size = file === '-' ? undefined : await stat(file).then((s) => s.size, (error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read ${file}: ${error.code ?? 'error'}`);
    });
    files.push({ kind, file, fileName: file === '-' ? 'stdin' : file, size });
  }
  if (files.filter((f) => f.file === '-').length > 1) throw new CliError('standard input (-) can be read once: give the other files by name');
  return files;
}

/** The CLI's error for a failed import: its row errors on stderr, and which files were applied and which not. */
function importFailure(error: unknown, fileNames: readonly string[], applied: readonly string[]): unknown {
  if (!(error instanceof ImportError)) return error;
  const failed = fileNames[applied.length] ?? 'the file';
  const notImported = fileNames.slice(applied.length + 1);
  const rest = `${applied.length > 0 ? `; applied before it: ${applied.join(', ')}` : ''}${notImported.length > 0 ? `; not imported: ${notImported.join(', ')}` : ''}`;
  if (error.rowErrors.length === 0) return new CliError(`${error.message}${rest}`, EXIT_BAD_INPUT);
  const more = error.total > MAX_ERRORS_SHOWN ? ` (the first ${MAX_ERRORS_SHOWN} are above)` : '';
  process.stderr.write(`${error.rowErrors.map((row) => formatRowError(failed, row)).join('\n')}\n`);
  return new CliError(`${error.total} error(s)${more}: nothing of ${failed} was applied${rest}`, EXIT_BAD_INPUT);
}

/** What the command prints: counts, every move, time (from the file's first byte read to its commit), rate and peak RSS. */
export function formatSummary(summary: ImportSummary, dryRun: boolean): string {
  const seconds = summary.ms / 1000;
  const changed = summary.inserted + summary.updated + summary.removed;
  const lines = [
    `${summary.file}: ${summary.rows} rows: ${summary.inserted} inserted, ${summary.updated} updated, ${summary.unchanged} unchanged, ` +
      `${summary.removed} removed, ${summary.moves.length} moved, ${summary.rekeyed} rekeyed`,
    ...summary.moves.map((move) => `  moved (line ${move.line}): ${move.kind} ending ${move.last4} from ${move.from} to ${move.to}`),
    `time ${seconds.toFixed(1)} s (${Math.round(summary.rows / Math.max(seconds, 0.001))} rows/s), ` +
      `peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB ` +
      `(read+hash+COPY ${summary.phasesMs.stage} ms, ${summary.phasesMs.wait > 0 ? `waited ${summary.phasesMs.wait} ms, ` : ''}` +
      `checks ${summary.phasesMs.check} ms, apply ${summary.phasesMs.apply} ms)`,
  ];
  if (dryRun) lines.push('dry run: nothing was applied');
  else if (changed === 0) lines.push('no change: the ledger already holds this file');
  return `${lines.join('\n')}\n`;
}

/** A progress bar on a terminal (bytes read, rows/s, ETA), from the file's first staged rows; nothing otherwise. */
class Progress {
  #bar: SingleBar | undefined;
  #bytes = 0;
  #started = 0;
  #stopped = false;

  constructor(private readonly fileName: string, private readonly size: number | undefined) {}

  count(input: Readable): Readable {
    return input.pipe(new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.#bytes += chunk.length;
        done(null, chunk);
      },
    }));
  }

  rows(rows: number): void {
    if (this.#stopped || !process.stderr.isTTY) return;
    if (!this.#bar) {
      this.#started = Date.now();
      this.#bar = new SingleBar({
        stream: process.stderr,
        format: `${this.fileName} ${this.size === undefined ? '{rows} rows | {rate} rows/s' : '[{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}'}`,
        etaBuffer: 50,
        hideCursor: true,
      });
      this.#bar.start(this.size ?? 0, 0, { rows: 0, rate: 0 });
    }
    const seconds = (Date.now() - this.#started) / 1000;
    this.#bar.update(this.size === undefined ? 0 : this.#bytes, { rows, rate: Math.round(rows / Math.max(seconds, 0.001)) });
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (!this.#bar) return;
    this.#bar.stop();
    process.stderr.write(`${this.fileName}: checking and applying the file in one transaction...\n`);
  }
}
