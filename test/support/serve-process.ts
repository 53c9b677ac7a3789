import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServeProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far, stdout and stderr. */
  output(): string;
  /** The JSON log lines written so far, parsed. */
  logLines(): Record<string, unknown>[];
  /** Resolves once a log line's `msg` contains `fragment`; rejects after `timeoutMs` or if the process exits. */
  waitForLog(fragment: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `jht-switch serve` as its own process, as an operator runs it: resolves once it listens and its admin
 * socket is open. `env` is added to the test's environment; a key set to undefined is removed from it.
 */
export async function startServe(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: { /** A process group of its own, as a shell's job: `process.kill(-pid)` then signals the whole job. */ processGroup?: boolean } = {},
): Promise<ServeProcess> {
  // Tests run as root in CI and containers: the switch is told so, as a container's would be.
  const childEnv: NodeJS.ProcessEnv = { ...process.env, JHT_ALLOW_ROOT: '1' };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', ...args], {
    cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: options.processGroup === true,
  });
  let text = '';
  const waiters: Array<() => void> = [];
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    if (process.env.DEBUG_CHILD) process.stderr.write(chunk);
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters.splice(0)) wake();
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));

  const logLines = (): Record<string, unknown>[] => text.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  const waitForLog = (fragment: string, timeoutMs = 30_000): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const look = (): void => {
        const found = logLines().find((line) => String(line.msg ?? '').includes(fragment));
        if (found) return resolve(found);
        if (gone) return reject(new Error(`serve exited before logging "${fragment}":\n${text}`));
        if (Date.now() > deadline) return reject(new Error(`serve did not log "${fragment}" within ${timeoutMs} ms:\n${text}`));
        waiters.push(look);
        setTimeout(look, 200).unref();
      };
      look();
    });
  };
  const serve: ServeProcess = { child, output: () => text, logLines, waitForLog, exited };
  await waitForLog('switch listening');
  await waitForLog('admin socket listening');
  return serve;
}
