import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProfileError } from './errors.js';
import { FieldPacker } from './field-packer.js';
import { profileSchema, type FieldSpec, type ProfileDocument } from './field-spec.js';
import { asciiMti, bcdMti, binaryBitmap, hexBitmap, type BitmapCodec, type MtiCodec } from './header-codecs.js';
import { ALPHANUMERIC, NUMERIC, PRINTABLE, TRACK2 } from './charsets.js';
import {
  AmountInterpreter, BcdInterpreter, HexInterpreter, RawBinaryInterpreter, TextInterpreter, type Interpreter,
} from './interpreters.js';
import { createPrefixer } from './prefixers.js';

/** A compiled packager profile: the MTI and bitmap codecs and one field packer per defined field. */
export interface Profile {
  readonly name: string;
  readonly description: string;
  readonly mti: MtiCodec;
  readonly bitmap: BitmapCodec;
  /** Indexed by field number; undefined for fields the profile does not define. */
  readonly fields: readonly (FieldPacker | undefined)[];
  /** The largest message this profile can produce, in bytes. */
  readonly maxBytes: number;
}

export const PROFILE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../specs/profiles');

const TEXT_CHARSETS = { an: ALPHANUMERIC, ans: PRINTABLE } as const;

function resolveSpec(doc: ProfileDocument, key: string): FieldSpec {
  const raw = doc.fields[key]!;
  const number = Number(key);
  const at = `fields.${key}`;
  if (number < 2 || number > 128) throw new ProfileError(doc.name, at, 'field numbers run from 2 to 128 (1 is the bitmap)');
  const defaultEncoding =
    raw.type === 'b' ? doc.defaults.binary
      : raw.type === 'z' ? doc.defaults.track
        : raw.type === 'n' || raw.type === 'x+n' ? doc.defaults.numeric
          : 'ascii';
  const encoding = raw.encoding ?? defaultEncoding;
  const allowed: Record<string, readonly string[]> = {
    n: ['ascii', 'bcd'], z: ['ascii', 'bcd'], 'x+n': ['ascii', 'bcd'], an: ['ascii'], ans: ['ascii'], b: ['hex', 'binary'],
  };
  if (!allowed[raw.type]!.includes(encoding)) {
    throw new ProfileError(doc.name, `${at}.encoding`, `${encoding} cannot carry a ${raw.type} field`);
  }
  const defaultPadding = raw.type === 'n' ? 'left-zero' : raw.type === 'an' || raw.type === 'ans' ? 'right-space' : 'none';
  const variable = raw.prefix !== 'fixed';
  return {
    number,
    name: raw.name,
    type: raw.type,
    length: raw.length,
    prefix: raw.prefix,
    encoding,
    prefixEncoding: raw.prefixEncoding ?? doc.defaults.prefix,
    padding: raw.padding ?? defaultPadding,
    // jPOS: fixed BCD numerics are left-padded, variable ones (LLNUM) right-padded.
    nibblePadding: raw.nibblePadding ?? (variable ? 'right-zero' : 'left-zero'),
    sensitive: raw.sensitive,
  };
}

function interpreterFor(spec: FieldSpec): Interpreter {
  switch (spec.type) {
    case 'an':
    case 'ans':
      return new TextInterpreter(TEXT_CHARSETS[spec.type]);
    case 'n':
    case 'z': {
      const track = spec.type === 'z';
      if (spec.encoding === 'bcd') return new BcdInterpreter(track, spec.nibblePadding);
      return new TextInterpreter(track ? TRACK2 : NUMERIC);
    }
    case 'x+n':
      return new AmountInterpreter(
        spec.encoding === 'bcd' ? new BcdInterpreter(false, spec.nibblePadding) : new TextInterpreter(NUMERIC),
      );
    case 'b':
      return spec.encoding === 'binary' ? new RawBinaryInterpreter() : new HexInterpreter();
  }
}

/** Validates a profile document and builds its packers. Errors name the profile and the JSON path. */
export function compileProfile(document: unknown, source = 'profile'): Profile {
  const parsed = profileSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = typeof document === 'object' && document !== null && 'name' in document ? String(document.name) : source;
    throw new ProfileError(name, issue.path.join('.'), issue.message);
  }
  const doc = parsed.data;
  const fields: (FieldPacker | undefined)[] = new Array<FieldPacker | undefined>(129).fill(undefined);
  const mti = doc.mti === 'bcd' ? bcdMti : asciiMti;
  const bitmap = doc.bitmap === 'binary' ? binaryBitmap : hexBitmap;
  let maxBytes = mti.bytes + 2 * bitmap.bytes;
  for (const key of Object.keys(doc.fields)) {
    const spec = resolveSpec(doc, key);
    const prefixer = createPrefixer(spec.prefix, spec.prefixEncoding);
    if (spec.prefix !== 'fixed' && spec.length > prefixer.maxLength) {
      throw new ProfileError(doc.name, `fields.${key}.length`, `${spec.length} does not fit a ${spec.prefixEncoding} ${spec.prefix} prefix`);
    }
    if (spec.type === 'b' && spec.padding !== 'none') {
      throw new ProfileError(doc.name, `fields.${key}.padding`, 'binary fields are never padded');
    }
    const packer = new FieldPacker(spec, prefixer, interpreterFor(spec));
    fields[spec.number] = packer;
    maxBytes += packer.maxBytes;
  }
  return { name: doc.name, description: doc.description, mti, bitmap, fields, maxBytes };
}

const cache = new Map<string, Profile>();

/** Loads a profile by name (from specs/profiles) or by path to a JSON file; compiled once per process. */
export function loadProfile(nameOrPath: string): Profile {
  const cached = cache.get(nameOrPath);
  if (cached) return cached;
  const isName = /^[a-z0-9][a-z0-9-]*$/.test(nameOrPath);
  const file = isName ? join(PROFILE_DIR, `${nameOrPath}.json`) : resolve(nameOrPath);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    const known = isName ? ` (known: ${listProfiles().join(', ')})` : '';
    throw new ProfileError(nameOrPath, '', `cannot read ${file}${known}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProfileError(nameOrPath, '', `not valid JSON: ${(error as Error).message}`);
  }
  const profile = compileProfile(json, nameOrPath);
  cache.set(nameOrPath, profile);
  return profile;
}

export function listProfiles(): string[] {
  return readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}
