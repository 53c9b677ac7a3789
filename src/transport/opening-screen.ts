/**
 * Holds a stream's first bytes until they can no longer be `refused` (then hands them all on, in one buffer)
 * or have matched it whole. A direct peer's stream screened for the PROXY v2 signature: however the peer
 * splits it, a header is recognised before a frame is cut from it.
 */
export class OpeningScreen {
  private seen: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(private readonly refused: Buffer) {}

  /** The bytes to read now; `undefined` while undecided; 'refused' once the opening matched. */
  screen(chunk: Buffer): Buffer | 'refused' | undefined {
    if (this.done) return chunk;
    this.seen = this.seen.length === 0 ? chunk : Buffer.concat([this.seen, chunk]);
    const compared = Math.min(this.seen.length, this.refused.length);
    if (!this.seen.subarray(0, compared).equals(this.refused.subarray(0, compared))) {
      const seen = this.seen;
      this.done = true;
      this.seen = Buffer.alloc(0);
      return seen;
    }
    return compared === this.refused.length ? 'refused' : undefined;
  }
}
