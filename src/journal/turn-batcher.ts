/** A batch this big or bigger says the rate fills batches without waiting: the next one opens no window. */
const WINDOW_BELOW_BATCH_SIZE = 8;

/**
 * Group commit for statements the caller waits on: items pushed in the same turn of the event loop
 * (setImmediate), or within `windowMs` of the first of them, go out as one batch; while `maxInFlight`
 * batches are out, new items pile up for the next, so batches grow with load instead of round trips.
 * Shared by the claim (ClaimBatcher), the durable journal commit (DurableRecorder) and REST's ledger read.
 * `run` settles its items itself and must not reject.
 *
 * The window is for low rates: at 1,000 inquiries/s on 4 connections a turn holds one inquiry, and every
 * statement's fixed cost (its round trip, its transaction, for the journal its WAL flush) falls on one. A full
 * batch never waits for it, nor does a batch while another statement is out or after a batch of 8 or more.
 */
export class TurnBatcher<T> {
  private pending: T[] = [];
  private inFlight = 0;
  private itemsInFlight = 0;
  private scheduled = false;
  private window: NodeJS.Timeout | undefined;
  private lastBatchSize = 0;

  constructor(
    private readonly run: (batch: T[]) => Promise<void>,
    private readonly maxBatchSize: number,
    private readonly maxInFlight: number,
    private readonly windowMs = 0,
  ) {}

  push(item: T): void {
    this.pending.push(item);
    this.schedule();
  }

  /** Items waiting for a batch plus those in batches still out. */
  get depth(): number {
    return this.pending.length + this.itemsInFlight;
  }

  /** `slotFreed`: a statement came back; what piled up meanwhile has waited long enough and goes at once. */
  private schedule(slotFreed = false): void {
    if (this.pending.length === 0 || this.inFlight >= this.maxInFlight) return;
    const now = slotFreed || this.pending.length >= this.maxBatchSize;
    // Already due: at once, or at the window's end unless it should go now.
    if (this.scheduled && !(now && this.window !== undefined)) return;
    clearTimeout(this.window);
    this.window = undefined;
    this.scheduled = true;
    // The window only at low rates: nothing out, and the last batch small. Under load batches fill by
    // themselves, and a wait would only lengthen a closed loop's round.
    const lowRate = this.inFlight === 0 && this.lastBatchSize < WINDOW_BELOW_BATCH_SIZE;
    if (this.windowMs > 0 && !now && lowRate) this.window = setTimeout(this.dispatch, this.windowMs);
    else setImmediate(this.dispatch);
  }

  private readonly dispatch = (): void => {
    this.scheduled = false;
    clearTimeout(this.window);
    this.window = undefined;
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.pending.splice(0, this.maxBatchSize);
      this.lastBatchSize = batch.length;
      this.inFlight++;
      this.itemsInFlight += batch.length;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.itemsInFlight -= batch.length;
        this.schedule(true);
      });
    }
  };
}
