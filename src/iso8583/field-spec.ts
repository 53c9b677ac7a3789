import { z } from 'zod';

/**
 * The shape of a packager profile as it is written in specs/profiles/*.json.
 * A field is data (type, length, prefix, encodings, padding); the codec is an engine over it,
 * so a partner's dialect is a new JSON file, not new code.
 */
export const FIELD_TYPES = ['n', 'an', 'ans', 'b', 'z', 'x+n'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const PREFIXES = ['fixed', 'LL', 'LLL', 'LLLL'] as const;
export type PrefixKind = (typeof PREFIXES)[number];

/** How digits travel: one ASCII byte each, or two per byte (BCD). */
export type DigitEncoding = 'ascii' | 'bcd';
/** How binary data travels: as ASCII hex characters, or as raw bytes. */
export type BinaryEncoding = 'hex' | 'binary';
export type PrefixEncoding = 'ascii' | 'bcd' | 'binary';

/** Padding of fixed-length fields shorter than their length. */
export type Padding = 'left-zero' | 'right-space' | 'left-space' | 'none';
/** Where the spare nibble goes when an odd number of digits is packed as BCD. */
export type NibblePadding = 'left-zero' | 'right-zero' | 'right-F';

/** How a field is shown when a message is rendered for people (logs, CLI). */
export type Sensitivity = 'pan' | 'account' | 'secret';

const fieldSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(FIELD_TYPES),
    /** Fixed length, or maximum for variable fields: digits for n/z/x+n, characters for an/ans, bytes for b. */
    length: z.number().int().positive(),
    prefix: z.enum(PREFIXES).default('fixed'),
    /** Overrides the profile's default encoding for this field's type. */
    encoding: z.enum(['ascii', 'bcd', 'hex', 'binary']).optional(),
    prefixEncoding: z.enum(['ascii', 'bcd', 'binary']).optional(),
    padding: z.enum(['left-zero', 'right-space', 'left-space', 'none']).optional(),
    nibblePadding: z.enum(['left-zero', 'right-zero', 'right-F']).optional(),
    sensitive: z.enum(['pan', 'account', 'secret']).optional(),
  })
  .strict();

export const profileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    description: z.string(),
    mti: z.enum(['ascii', 'bcd']),
    bitmap: z.enum(['hex', 'binary']),
    defaults: z
      .object({
        numeric: z.enum(['ascii', 'bcd']),
        track: z.enum(['ascii', 'bcd']),
        binary: z.enum(['hex', 'binary']),
        prefix: z.enum(['ascii', 'bcd', 'binary']),
      })
      .strict(),
    fields: z.record(z.string().regex(/^\d{1,3}$/), fieldSchema),
  })
  .strict();

export type FieldSpecInput = z.input<typeof fieldSchema>;
export type ProfileInput = z.input<typeof profileSchema>;
export type ProfileDocument = z.output<typeof profileSchema>;

/** A field spec with every default resolved: what the engine compiles. */
export interface FieldSpec {
  readonly number: number;
  readonly name: string;
  readonly type: FieldType;
  readonly length: number;
  readonly prefix: PrefixKind;
  readonly encoding: DigitEncoding | BinaryEncoding;
  readonly prefixEncoding: PrefixEncoding;
  readonly padding: Padding;
  readonly nibblePadding: NibblePadding;
  readonly sensitive: Sensitivity | undefined;
}
