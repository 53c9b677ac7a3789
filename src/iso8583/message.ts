import { maskedFields } from './render.js';

/**
 * An ISO 8583 message: an MTI and data elements by number. Every value is a string as it appears in
 * the field (digits, text, or upper-case hex for binary fields), so a decoded message re-encodes to the
 * same bytes.
 *
 * Presence is kept in four 32-bit words alongside the values so the packer walks set bits instead of
 * scanning 128 slots.
 */
export class IsoMessage {
  mti: string;
  private readonly values: (string | undefined)[] = [];
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;

  constructor(mti = '', fields?: Readonly<Record<number, string>>) {
    this.mti = mti;
    if (fields) for (const [n, v] of Object.entries(fields)) this.set(Number(n), v);
  }

  get(field: number): string | undefined {
    return this.values[field];
  }

  has(field: number): boolean {
    return this.values[field] !== undefined;
  }

  set(field: number, value: string): this {
    if (!Number.isInteger(field) || field < 2 || field > 128) {
      throw new RangeError(`field number ${field} is outside 2..128`);
    }
    this.values[field] = value;
    this.setBit(field, true);
    return this;
  }

  /** The decoder's setter: the field number comes from the bitmap, so it is already known to be valid. */
  setDecoded(field: number, value: string): void {
    this.values[field] = value;
    this.setBit(field, true);
  }

  delete(field: number): this {
    if (this.values[field] === undefined) return this;
    this.values[field] = undefined;
    this.setBit(field, false);
    return this;
  }

  /** Presence word 0..3 (fields 1-32, 33-64, 65-96, 97-128), bit 31 = lowest field of the word. */
  word(index: number): number {
    return index === 0 ? this.w0 : index === 1 ? this.w1 : index === 2 ? this.w2 : this.w3;
  }

  /** Field numbers present, ascending. */
  fieldNumbers(): number[] {
    const out: number[] = [];
    for (let w = 0; w < 4; w++) {
      let bits = this.word(w);
      while (bits !== 0) {
        const lead = Math.clz32(bits);
        out.push(w * 32 + lead + 1);
        bits &= ~(0x80000000 >>> lead);
      }
    }
    return out;
  }

  clone(): IsoMessage {
    const copy = new IsoMessage(this.mti);
    for (const n of this.fieldNumbers()) copy.set(n, this.values[n]!);
    return copy;
  }

  /**
   * What JSON.stringify (and so any logger) sees: card data masked (PAN first 6 + last 4, tracks, PIN block,
   * ICC data and expiry hidden), so a message that ends up in a log line by mistake does not leak.
   */
  toJSON(): { mti: string; fields: Record<string, string> } {
    return maskedFields(this);
  }

  /** `{ mti, fields: { "2": ..., "3": ... } }` in clear: the shape the CLI reads and prints. Never log it. */
  toUnmaskedJSON(): { mti: string; fields: Record<string, string> } {
    const fields: Record<string, string> = {};
    for (const n of this.fieldNumbers()) fields[String(n)] = this.values[n]!;
    return { mti: this.mti, fields };
  }

  private setBit(field: number, on: boolean): void {
    const w = (field - 1) >> 5;
    const mask = 0x80000000 >>> ((field - 1) & 31);
    const set = on ? mask : 0;
    const keep = ~mask;
    if (w === 0) this.w0 = (this.w0 & keep) | set;
    else if (w === 1) this.w1 = (this.w1 & keep) | set;
    else if (w === 2) this.w2 = (this.w2 & keep) | set;
    else this.w3 = (this.w3 & keep) | set;
  }
}
