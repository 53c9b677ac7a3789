/**
 * An acquiring institution ID in its one canonical spelling: without leading zeros ("008" is 8). Field 32 is
 * an LLVAR that banks send as they like ("008" or "8"), field 90 carries it zero-padded to 11 digits, and the
 * configuration may write either: all of them are compared, and keyed, in this form only.
 */
export function canonicalAcquirerId(id: string): string {
  return id.replace(/^0+(?=.)/, '');
}
