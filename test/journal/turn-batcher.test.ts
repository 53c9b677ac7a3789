import { setImmediate as nextTurn } from 'node:timers/promises';
import { expect } from 'chai';
import { TurnBatcher } from '../../src/journal/turn-batcher.js';
import { sleep, waitFor } from '../support/index.js';

/** A batcher whose statements are recorded batches, each settled at once. */
function recording(maxBatchSize: number, maxInFlight: number, windowMs?: number): { batcher: TurnBatcher<number>; batches: number[][] } {
  const batches: number[][] = [];
  const batcher = new TurnBatcher<number>(async (batch) => void batches.push(batch), maxBatchSize, maxInFlight, windowMs);
  return { batcher, batches };
}

/** A batcher whose statements stay out until the test releases them, oldest first. */
function holding(maxBatchSize: number, maxInFlight: number, windowMs?: number): { batcher: TurnBatcher<number>; batches: number[][]; release: () => void } {
  const released: Array<() => void> = [];
  const batches: number[][] = [];
  const batcher = new TurnBatcher<number>((batch) => new Promise<void>((resolve) => {
    batches.push(batch);
    released.push(resolve);
  }), maxBatchSize, maxInFlight, windowMs);
  return { batcher, batches, release: () => released.shift()!() };
}

describe('journal: TurnBatcher, the group commit of the claim, the durable journal and the REST read', () => {
  it('sends what one turn pushed as one batch, and a later turn as the next, with no window', async () => {
    const { batcher, batches } = recording(100, 2);
    batcher.push(1);
    batcher.push(2);
    await nextTurn();
    await nextTurn();
    batcher.push(3);
    await waitFor(() => batches.length === 2, { what: 'two batches' });
    expect(batches).to.deep.equal([[1, 2], [3]]);
  });

  it('with a window, gathers the pushes of several turns into one statement', async () => {
    const { batcher, batches } = recording(100, 2, 50);
    for (let i = 1; i <= 4; i++) {
      batcher.push(i);
      await nextTurn();
    }
    expect(batches, 'nothing sent inside the window').to.deep.equal([]);
    await waitFor(() => batches.length === 1, { what: 'the window to close' });
    expect(batches).to.deep.equal([[1, 2, 3, 4]]);
  });

  it('never makes a full batch wait for the window', async () => {
    const { batcher, batches } = recording(3, 2, 60_000);
    for (const i of [1, 2, 3]) batcher.push(i);
    await waitFor(() => batches.length === 1, { what: 'the full batch', timeoutMs: 2_000 });
    expect(batches).to.deep.equal([[1, 2, 3]]);
  });

  it('keeps at most maxInFlight statements out; the rest pile up for the next', async () => {
    const { batcher, batches, release } = holding(100, 1);
    batcher.push(1);
    await sleep(20);
    batcher.push(2);
    batcher.push(3);
    await sleep(20);
    expect(batches, 'the second waits for the first').to.deep.equal([[1]]);
    expect(batcher.depth).to.equal(3);
    release();
    await waitFor(() => batches.length === 2, { what: 'the next batch' });
    expect(batches[1]).to.deep.equal([2, 3]);
    release();
    await waitFor(() => batcher.depth === 0, { what: 'an empty batcher' });
  });

  it('sends what piled up behind a statement as soon as it returns, without a second window', async () => {
    const { batcher, batches, release } = holding(2, 1, 60_000);
    batcher.push(1);
    batcher.push(2); // full: out at once
    await waitFor(() => batches.length === 1, { what: 'the full batch' });
    batcher.push(3); // behind it
    release();
    await waitFor(() => batches.length === 2, { what: 'the piled-up item, long before the minute-long window', timeoutMs: 2_000 });
    expect(batches[1]).to.deep.equal([3]);
    release();
  });

  it('opens no window while a statement is out: under load the next batch goes at once', async () => {
    const { batcher, batches, release } = holding(2, 2, 60_000);
    // Nothing out: a first batch would wait its window, so fill it (small: two) to send it now; it stays out.
    for (const i of [1, 2]) batcher.push(i);
    await waitFor(() => batches.length === 1, { what: 'the full first batch' });
    batcher.push(3);
    await waitFor(() => batches.length === 2, { what: 'the next batch, with no window', timeoutMs: 2_000 });
    expect(batches[1]).to.deep.equal([3]);
    release();
    release();
  });

  it('opens no window after a big batch: at a high rate batches fill without waiting', async () => {
    const { batcher, batches } = recording(100, 2, 60_000);
    for (let i = 1; i <= 100; i++) batcher.push(i); // full: out at once, and big
    await waitFor(() => batches.length === 1, { what: 'the full batch' });
    batcher.push(101);
    await waitFor(() => batches.length === 2, { what: 'the next batch, with no window', timeoutMs: 2_000 });
    expect(batches[1]).to.deep.equal([101]);
  });
});
