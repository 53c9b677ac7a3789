import type { Command } from 'commander';
import { z } from 'zod';
import { IsoMessage, Packager, loadProfile, renderFields, renderJson, type Profile } from '../iso8583/index.js';
import { CliError, readStdin } from './cli-error.js';

const DEFAULT_PROFILE = 'iso87-ascii';

/** Hex text to bytes; spaces, newlines and a 0x prefix are tolerated so pasted dumps work. */
export function parseHex(text: string): Buffer {
  const hex = text.replace(/^0x/i, '').replace(/\s+/g, '');
  if (hex.length === 0) throw new CliError('no input: expected hex');
  const bad = hex.search(/[^0-9a-fA-F]/);
  if (bad >= 0) throw new CliError(`not hex: character ${bad + 1} of the input`);
  if (hex.length % 2 !== 0) throw new CliError('not hex: odd number of digits');
  return Buffer.from(hex, 'hex');
}

function startsWithMti(bytes: Buffer, profile: Profile): boolean {
  try {
    profile.mti.read(bytes, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Accepts a frame with or without the 2-byte big-endian length header. A header is recognised when it
 * announces exactly the bytes that follow it, or, for a cut-off frame, when the bytes only make a valid
 * MTI once the first two are skipped.
 */
export function stripLengthHeader(bytes: Buffer, profile: Profile): Buffer {
  if (bytes.length <= 2) return bytes;
  if (bytes.readUInt16BE(0) === bytes.length - 2) return bytes.subarray(2);
  const body = bytes.subarray(2);
  return !startsWithMti(bytes, profile) && startsWithMti(body, profile) ? body : bytes;
}

function formatTable(message: IsoMessage, packager: Packager, reveal: boolean): string {
  const rows = renderFields(message, packager.profile, { reveal });
  const nameWidth = Math.max(4, ...rows.map((r) => r.name.length));
  const lines = [`MTI  ${message.mti}`];
  for (const row of rows) lines.push(`${String(row.field).padStart(3)}  ${row.name.padEnd(nameWidth)}  ${row.value}`);
  return lines.join('\n');
}

const messageJson = z
  .object({
    mti: z.string(),
    fields: z.record(z.string().regex(/^\d{1,3}$/, 'field keys are numbers 2..128'), z.string()),
  })
  .strict();

/** JSON text to an IsoMessage; errors name the JSON path. */
export function parseMessageJson(text: string): IsoMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`not valid JSON: ${(error as Error).message}`);
  }
  const parsed = messageJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliError(`bad message JSON at ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  const message = new IsoMessage(parsed.data.mti);
  for (const [key, value] of Object.entries(parsed.data.fields)) {
    const field = Number(key);
    if (field < 2 || field > 128) throw new CliError(`bad message JSON at fields.${key}: field numbers run from 2 to 128`);
    message.set(field, value);
  }
  return message;
}

export function registerCodecCommands(program: Command): void {
  program
    .command('decode')
    .description('decode an ISO 8583 message given as hex (argument or stdin), with or without its 2-byte length header')
    .argument('[hex]', 'the message as hex; read from stdin when absent')
    .option('-p, --profile <name|file>', 'packager profile', DEFAULT_PROFILE)
    .option('--json', 'print {"mti", "fields"} as JSON')
    .option('--reveal', 'show sensitive fields (PAN, track, PIN) unmasked')
    .action(async (hex: string | undefined, options: { profile: string; json?: boolean; reveal?: boolean }) => {
      const packager = new Packager(loadProfile(options.profile));
      const bytes = stripLengthHeader(parseHex(hex ?? (await readStdin())), packager.profile);
      const message = packager.unpack(bytes);
      const reveal = options.reveal === true;
      process.stdout.write(
        options.json
          ? `${JSON.stringify(renderJson(message, packager.profile, { reveal }))}\n`
          : `${formatTable(message, packager, reveal)}\n`,
      );
    });

  program
    .command('encode')
    .description('encode a message given as JSON {"mti": "0200", "fields": {"2": "...", ...}} (argument or stdin) to hex')
    .argument('[json]', 'the message as JSON; read from stdin when absent')
    .option('-p, --profile <name|file>', 'packager profile', DEFAULT_PROFILE)
    .option('--frame', 'prefix the 2-byte big-endian length header')
    .action(async (json: string | undefined, options: { profile: string; frame?: boolean }) => {
      const packager = new Packager(loadProfile(options.profile));
      const body = packager.pack(parseMessageJson(json ?? (await readStdin())));
      let out = body;
      if (options.frame) {
        out = Buffer.allocUnsafe(body.length + 2);
        out.writeUInt16BE(body.length, 0);
        body.copy(out, 2);
      }
      process.stdout.write(`${out.toString('hex').toUpperCase()}\n`);
    });
}
