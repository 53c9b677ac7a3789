/**
 * Group commit for statements the caller waits on: items pushed in the same turn of the event loop
 * (setImmediate) go out as one batch; while `maxInFlight` batches are out, new items pile up for the next,
 * so batches grow with load instead of round trips. Shared by the claim (ClaimBatcher) and the durable
 * journal commit (DurableRecorder). `run` settles its items itself and must not reject.
 */
export class TurnBatcher<T> {
  private pending: T[] = [];
  private inFlight = 0;
  private itemsInFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (batch: T[]) => Promise<void>,
    private readonly maxBatchSize: number,
    private readonly maxInFlight: number,
  ) {}

  push(item: T): void {
    this.pending.push(item);
    this.schedule();
  }

  /** Items waiting for a batch plus those in batches still out. */
  get depth(): number {
    return this.pending.length + this.itemsInFlight;
  }

  private schedule(): void {
    if (this.scheduled || this.pending.length === 0 || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(this.dispatch);
  }

  private readonly dispatch = (): void => {
    this.scheduled = false;
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.pending.splice(0, this.maxBatchSize);
      this.inFlight++;
      this.itemsInFlight += batch.length;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.itemsInFlight -= batch.length;
        this.schedule();
      });
    }
  };
}
