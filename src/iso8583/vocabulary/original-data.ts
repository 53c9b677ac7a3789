/** Field 90 (n42): what a reversal advice says about the transaction it reverses. */
export interface OriginalDataElements {
  mti: string;
  stan: string;
  transmissionAt: string;
  /** Zero-padded to 11 digits as sent; all zeros when the sender left it out. */
  acquirerId: string;
  forwardingId: string;
}

const FIELD_90 = /^(\d{4})(\d{6})(\d{10})(\d{11})(\d{11})$/;

/** The five parts of field 90, or undefined when it is not 42 digits. */
export function parseOriginalDataElements(field90: string): OriginalDataElements | undefined {
  const match = FIELD_90.exec(field90);
  if (!match) return undefined;
  const [, mti, stan, transmissionAt, acquirerId, forwardingId] = match as unknown as [string, string, string, string, string, string];
  return { mti, stan, transmissionAt, acquirerId, forwardingId };
}

