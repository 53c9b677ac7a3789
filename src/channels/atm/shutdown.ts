import type { Logger } from '../../observability/logger.js';

/**
 * The switch's shutdown: one deadline for everything, and every step runs even when an earlier one failed or
 * ran out of time, so that a database that is down cannot keep the journal's close from ending, nor keep the
 * pool, the breaker and the embedded server from being closed. What could not be written is counted and
 * reported once, in the last log line, and the outcome says whether the stop was clean.
 */

export interface ShutdownStep {
  readonly name: string;
  /** Gets the time left before the deadline, in ms. */
  run(remainingMs: number): Promise<void>;
}

export interface ShutdownOutcome {
  clean: boolean;
  /** Steps that failed or did not finish before the deadline, by name. */
  failed: string[];
  ms: number;
}

/** Runs the steps in order within `deadlineMs`; a step still running at the deadline is left behind, reported as failed. */
export async function runShutdown(steps: readonly ShutdownStep[], deadlineMs: number, log: Logger): Promise<ShutdownOutcome> {
  const started = Date.now();
  const deadline = started + deadlineMs;
  const failed: string[] = [];
  for (const step of steps) {
    const remaining = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, remaining));
      timer.unref();
    });
    try {
      const result = await Promise.race([step.run(Math.max(0, remaining)).then(() => 'done' as const), outOfTime]);
      if (result === 'timeout') {
        failed.push(step.name);
        log.error({ step: step.name, deadlineMs }, 'shutdown: step did not finish before the deadline; going on');
      }
    } catch (error) {
      failed.push(step.name);
      log.error({ step: step.name, err: error }, 'shutdown: step failed; going on');
    } finally {
      clearTimeout(timer);
    }
  }
  return { clean: failed.length === 0, failed, ms: Date.now() - started };
}
