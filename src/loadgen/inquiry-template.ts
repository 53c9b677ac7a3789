import { IsoMessage, type Packager } from '../iso8583/index.js';
import type { FieldPacker } from '../iso8583/field-packer.js';
import { Field, Mti } from '../iso8583/vocabulary/index.js';
import type { Identity } from './identities.js';
import { LoadgenError } from './errors.js';

/** The date and time fields of a request (7 UTC, 12 and 13 local), as ISO 8583 writes them. */
export interface RequestTime {
  /** Whole seconds since the epoch: templates repack when it changes. */
  readonly second: number;
  readonly f7: string;
  readonly f12: string;
  readonly f13: string;
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

export function requestTime(epochMs: number): RequestTime {
  const d = new Date(epochMs);
  return {
    second: Math.floor(epochMs / 1000),
    f7: two(d.getUTCMonth() + 1) + two(d.getUTCDate()) + two(d.getUTCHours()) + two(d.getUTCMinutes()) + two(d.getUTCSeconds()),
    f12: two(d.getHours()) + two(d.getMinutes()) + two(d.getSeconds()),
    f13: two(d.getMonth() + 1) + two(d.getDate()),
  };
}

/** STANs run 000001..999999 (ISO 8583 field 11, n6). */
export const STAN_MODULUS = 999_999;
const STAN_DIGITS = 6;

/**
 * A place in the packed template where six decimal digits go. With ASCII digits (iso87-ascii) they are
 * written byte by byte; with any other encoding (BCD) the profile's own field packer writes them.
 */
class DigitSlot {
  private readonly ascii: boolean;
  constructor(readonly offset: number, private readonly packer: FieldPacker | undefined) {
    this.ascii = packer === undefined || (packer.spec.encoding === 'ascii' && packer.fixed);
  }

  write(out: Buffer, base: number, value: number): void {
    if (!this.ascii) {
      this.packer!.pack(String(value).padStart(STAN_DIGITS, '0'), out, base + this.offset);
      return;
    }
    let v = value;
    for (let i = base + this.offset + STAN_DIGITS - 1; i >= base + this.offset; i--) {
      out[i] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
  }
}

/** Where two packings of the same message, differing in one field's value, first differ. */
function offsetOfChange(packager: Packager, message: IsoMessage, field: number, a: string, b: string): number {
  const one = packager.pack(message.clone().set(field, a));
  const other = packager.pack(message.clone().set(field, b));
  if (one.length !== other.length) {
    throw new LoadgenError('LOADGEN_TEMPLATE', `field ${field} is not fixed-length in profile ${packager.profile.name}`);
  }
  for (let i = 0; i < one.length; i++) if (one[i] !== other[i]) return i;
  throw new LoadgenError('LOADGEN_TEMPLATE', `field ${field} does not change the packed message`);
}

export interface InquiryTemplateOptions {
  readonly packager: Packager;
  readonly identity: Identity;
  readonly acquirerId: string;
  /** Field 41, up to 8 characters. */
  readonly terminalId: string;
  readonly processingCode?: string;
}

/**
 * A 0200 balance inquiry packed once, then copied per request with the STAN (11) and the tail of the
 * RRN (37) patched in place: no message object, no codec work per request. The date and time fields
 * are packed again only when the second changes, so 32 + 11 + 7 + 41 stays unique per request.
 */
export class InquiryTemplate {
  private readonly packager: Packager;
  private readonly message: IsoMessage;
  private readonly stan: DigitSlot;
  private readonly rrnTail: DigitSlot;
  private packedSecond = -1;
  private packed: Buffer = Buffer.alloc(0);

  constructor(options: InquiryTemplateOptions, time: RequestTime) {
    this.packager = options.packager;
    const { identity } = options;
    this.message = new IsoMessage(Mti.FinancialRequest, {
      [Field.ProcessingCode]: options.processingCode ?? '310000',
      [Field.Stan]: '000000',
      [Field.PosEntryMode]: '051',
      [Field.AcquirerId]: options.acquirerId,
      [Field.Rrn]: '000000000000',
      [Field.TerminalId]: options.terminalId.padEnd(8, ' '),
      [Field.Currency]: '360',
      [identity.kind === 'pan' ? Field.Pan : Field.Account]: identity.value,
    });
    this.setTime(time);
    const fields = this.packager.profile.fields;
    this.stan = new DigitSlot(offsetOfChange(this.packager, this.message, Field.Stan, '000000', '999999'), fields[Field.Stan]);
    // The RRN is an12 text: only its last six characters (the STAN) change, written as ASCII digits.
    const rrnHead = this.message.get(Field.Rrn)!.slice(0, 6);
    this.rrnTail = new DigitSlot(offsetOfChange(this.packager, this.message, Field.Rrn, `${rrnHead}000000`, `${rrnHead}999999`), undefined);
    this.repack(time);
  }

  /** Bytes of the packed request (constant for a template: every patched field is fixed-length). */
  get length(): number {
    return this.packed.length;
  }

  /** Writes the request with STAN `stan` (1..999999) at out[offset]; returns the bytes written. */
  writeTo(out: Buffer, offset: number, stan: number, time: RequestTime): number {
    if (time.second !== this.packedSecond) this.repack(time);
    this.packed.copy(out, offset);
    this.stan.write(out, offset, stan);
    this.rrnTail.write(out, offset, stan);
    return this.packed.length;
  }

  private setTime(time: RequestTime): void {
    this.message.set(Field.TransmissionDateTime, time.f7);
    this.message.set(Field.LocalTime, time.f12);
    this.message.set(Field.LocalDate, time.f13);
    // RRN: the local date and hour (MMDDhh), then the STAN, as the ATM simulator makes it.
    this.message.set(Field.Rrn, `${(time.f13 + time.f12).slice(0, 6)}000000`);
  }

  private repack(time: RequestTime): void {
    this.setTime(time);
    this.packed = this.packager.pack(this.message);
    this.packedSecond = time.second;
  }
}

/** The current RequestTime, recomputed only when the wall-clock second changes. */
export class RequestClock {
  private current: RequestTime;
  private nextSecondMs: number;

  constructor() {
    const now = Date.now();
    this.current = requestTime(now);
    this.nextSecondMs = (this.current.second + 1) * 1000;
  }

  now(): RequestTime {
    const ms = Date.now();
    if (ms >= this.nextSecondMs) {
      this.current = requestTime(ms);
      this.nextSecondMs = (this.current.second + 1) * 1000;
    }
    return this.current;
  }
}
