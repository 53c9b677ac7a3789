import { InvalidArgumentError, type Command } from 'commander';
import {
  LoadgenError, MAX_CONNECTIONS, formatReport, hasErrors, runLoad,
  type Identity, type LoadMode, type LoadProgress,
} from '../loadgen/index.js';
import { FRAMING_NAMES, type FramingName } from '../transport/framing/index.js';
import { CliError } from './cli-error.js';
import { parseDigits, parsePort, parsePositiveInt } from './options.js';

interface LoadCommandOptions {
  host: string;
  port: number;
  connections: number;
  rate?: number;
  max?: boolean;
  inFlight: number;
  duration: number;
  warmup: number;
  pan?: string[];
  account?: string[];
  acquirer: string;
  profile: string;
  framing: FramingName;
  timeout: number;
  json?: boolean;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds');
  return n;
}

function parseRate(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of requests per second above 0');
  return n;
}

function parseConnections(value: string): number {
  const n = parsePositiveInt(value);
  if (n > MAX_CONNECTIONS) throw new InvalidArgumentError(`must be at most ${MAX_CONNECTIONS}`);
  return n;
}

/** `--pan A --pan B` and `--pan A B` both collect. */
function collectDigits(max: number): (value: string, previous: string[] | undefined) => string[] {
  const parse = parseDigits(max);
  return (value, previous) => [...(previous ?? []), parse(value)];
}

function parseFraming(value: string): FramingName {
  if (!(FRAMING_NAMES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${FRAMING_NAMES.join(', ')}`);
  return value as FramingName;
}

function modeOf(options: LoadCommandOptions): LoadMode {
  if ((options.rate === undefined) === (options.max !== true)) throw new CliError('give exactly one of --rate R or --max');
  return options.rate !== undefined ? { kind: 'rate', rate: options.rate } : { kind: 'max', inFlight: options.inFlight };
}

function identitiesOf(options: LoadCommandOptions): Identity[] | undefined {
  const identities: Identity[] = [
    ...(options.pan ?? []).map((value): Identity => ({ kind: 'pan', value })),
    ...(options.account ?? []).map((value): Identity => ({ kind: 'account', value })),
  ];
  return identities.length > 0 ? identities : undefined;
}

function progressLine(p: LoadProgress): string {
  return `${p.elapsedS.toFixed(0).padStart(4)} s  sent ${p.sent}  answered ${p.answered}  ${p.tps.toFixed(0)}/s  errors ${p.errors}\n`;
}

export function registerLoadCommand(program: Command): void {
  program
    .command('load')
    .description('load generator: signs C connections on and sends pipelined balance inquiries, checking every answer')
    .option('--host <host>', 'switch host', '127.0.0.1')
    .option('--port <port>', 'switch port', parsePort, 8583)
    .option('-c, --connections <n>', 'connections to open (each signs on)', parseConnections, 4)
    .option('-r, --rate <n>', 'open loop: requests per second in total, on a schedule', parseRate)
    .option('--max', 'closed loop: as fast as the switch answers, --in-flight per connection')
    .option('--in-flight <n>', 'closed loop: requests in flight per connection', parsePositiveInt, 64)
    .option('-d, --duration <s>', 'seconds of measured load', parseSeconds, 10)
    .option('--warmup <s>', 'seconds of load before measuring (checked, not measured)', parseSeconds, 0)
    .option('--pan <pan...>', 'card numbers (field 2), in turn; default the demo cards ...0001 and ...0019', collectDigits(19))
    .option('--account <account...>', 'account numbers (field 102), in turn', collectDigits(28))
    .option('--acquirer <id>', 'acquirer institution ID (field 32)', parseDigits(11), '99901')
    .option('-p, --profile <name>', 'packager profile', 'iso87-ascii')
    .option('--framing <name>', `framing (${FRAMING_NAMES.join(', ')})`, parseFraming, 'binary-2')
    .option('--timeout <ms>', 'an answer later than this is a timeout', parsePositiveInt, 5_000)
    .option('--json', 'print the report as JSON')
    .action(async (options: LoadCommandOptions) => {
      const mode = modeOf(options);
      if (options.duration <= 0) throw new CliError('--duration must be more than 0 s');
      const identities = identitiesOf(options);
      const abort = new AbortController();
      // Ctrl-C stops sending; what is in flight is still awaited and the report printed.
      const onSigint = (): void => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        const report = await runLoad({
          host: options.host,
          port: options.port,
          connections: options.connections,
          mode,
          durationS: options.duration,
          warmupS: options.warmup,
          ...(identities ? { identities } : {}),
          acquirerId: options.acquirer,
          profile: options.profile,
          framing: options.framing,
          timeoutMs: options.timeout,
          signal: abort.signal,
          ...(process.stderr.isTTY ? { onProgress: (p: LoadProgress) => process.stderr.write(progressLine(p)) } : {}),
        });
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        if (hasErrors(report)) process.exitCode = 1;
      } catch (error) {
        if (error instanceof LoadgenError) throw new CliError(error.message, error.code === 'LOADGEN_BAD_OPTIONS' ? 2 : 1);
        throw error;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
