import fc from 'fast-check';
import { IsoMessage, type FieldSpec, type Profile } from '../../src/iso8583/index.js';

const DIGITS = '0123456789';
const ALNUM = `${DIGITS}ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz `;
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
const HEX = '0123456789ABCDEF';

function charsOf(alphabet: string, min: number, max: number): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...alphabet.split('')), { minLength: min, maxLength: max }).map((a) => a.join(''));
}

/** A valid value for a field: full length for fixed fields so decoded values compare equal. */
/** The characters to draw text fields from. */
export interface TextAlphabets {
  an: string;
  ans: string;
}
const ISO_ALPHABETS: TextAlphabets = { an: ALNUM, ans: PRINTABLE };

/** Characters every ISO 8583 library agrees on (iso_8583 allows no space in 'an', no backslash in 'ans'). */
export const PLAIN_TEXT: TextAlphabets = { an: ALNUM.trim(), ans: `${ALNUM}.,-/` };

export function valueFor(spec: FieldSpec, alphabets = ISO_ALPHABETS, maxVariable = 40): fc.Arbitrary<string> {
  const fixed = spec.prefix === 'fixed';
  const min = fixed ? spec.length : 0;
  const max = fixed ? spec.length : Math.min(spec.length, maxVariable);
  switch (spec.type) {
    case 'n':
      return charsOf(DIGITS, min, max);
    case 'z':
      return charsOf(`${DIGITS}=`, min, max);
    case 'an':
      return charsOf(alphabets.an, min, max);
    case 'ans':
      return charsOf(alphabets.ans, min, max);
    case 'b':
      return charsOf(HEX, min * 2, max * 2).filter((s) => s.length % 2 === 0);
    case 'x+n':
      return fc.tuple(fc.constantFrom('C', 'D'), charsOf(DIGITS, spec.length, spec.length)).map(([s, d]) => s + d);
  }
}

/** Any message of defined fields in a profile, optionally limited to some field numbers. */
export function messageOf(profile: Profile, only?: readonly number[], alphabets = ISO_ALPHABETS): fc.Arbitrary<IsoMessage> {
  const numbers = (only ?? profile.fields.map((p, n) => (p ? n : 0)).filter((n) => n > 0));
  return fc
    .tuple(
      fc.constantFrom('0100', '0110', '0200', '0210', '0420', '0430', '0800', '0810'),
      fc.uniqueArray(fc.constantFrom(...numbers), { minLength: 1, maxLength: 24 }),
    )
    .chain(([mti, fields]) =>
      fc.tuple(...fields.map((n) => valueFor(profile.fields[n]!.spec, alphabets).map((v) => [n, v] as const))).map((pairs) => {
        const message = new IsoMessage(mti);
        for (const [n, v] of pairs) message.set(n, v);
        return message;
      }),
    );
}
