import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

export interface WaitOptions {
  /** Named in the error when time is up: "timed out after 3000 ms waiting for <what>". A function is
   * called only then, so it can report the state at the deadline (e.g. how many frames did arrive). */
  what: string | (() => string);
  /** Default 3000 ms. */
  timeoutMs?: number;
  /** Time between two checks; default 10 ms. */
  intervalMs?: number;
}

/**
 * Resolves once `condition` holds; rejects naming what it waited for once `timeoutMs` have passed. A
 * condition that throws ends the wait with its error (e.g. the process under test exited).
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, options: WaitOptions): Promise<void> {
  const { timeoutMs = 3_000, intervalMs = 10 } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) {
      const what = typeof options.what === 'function' ? options.what() : options.what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}
