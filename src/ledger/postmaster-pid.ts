import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.js';
import { EmbeddedServerError } from './errors.js';

/**
 * A switch killed with SIGKILL (or a container stopped hard) leaves `postmaster.pid` in the data directory,
 * and sometimes the postgres server itself, orphaned and still running. Postgres refuses to start when the
 * PID in that file is alive, which after a container restart is often some unrelated process that reused
 * the PID. This module decides, before each start, which case we are in:
 *
 * - no process has that PID: the file is stale, remove it;
 * - the PID belongs to something that is not a postgres serving this data dir (PID reuse): remove it;
 * - it is a postgres on this data dir whose parent is gone (re-parented to init): our own orphan from a
 *   killed run, stop it (fast shutdown) and wait for it to exit;
 * - it is a postgres on this data dir with a live parent: another switch is using the data dir, refuse.
 *
 * Linux only (it reads /proc); elsewhere postgres' own check applies and its message is reported.
 */

const ORPHAN_STOP_TIMEOUT_MS = 15_000;

interface ProcessInfo {
  cmdline: string[];
  ppid: number;
}

export async function clearStalePostmaster(dataDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (process.platform !== 'linux') return;

  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  const info = Number.isInteger(pid) && pid > 0 ? await inspectProcess(pid) : undefined;
  if (!info) {
    log.warn({ dataDir }, 'ledger: removing stale postmaster.pid left by a previous run');
    await rm(pidFile, { force: true });
    return;
  }
  const isPostgresHere = path.basename(info.cmdline[0] ?? '') === 'postgres' && info.cmdline.includes(dataDir);
  if (!isPostgresHere) {
    log.warn({ dataDir, pid }, 'ledger: postmaster.pid names a process that is not our postgres (PID reused); removing it');
    await rm(pidFile, { force: true });
    return;
  }
  if (await hasLiveOwner(info.ppid)) {
    throw new EmbeddedServerError(
      `data directory ${dataDir} is in use by a running postgres (pid ${pid}, parent pid ${info.ppid}); ` +
      'stop the other switch or choose another data directory',
    );
  }
  log.warn({ dataDir, pid }, 'ledger: stopping the orphaned postgres of a previous run that was killed');
  await stopOrphan(pid);
}

/**
 * The postgres serving `dataDir` right now (another process's switch or import started it), with the port
 * from postmaster.pid's fourth line; undefined when none is (no file, a stale one, or a reused PID).
 */
export async function runningPostmaster(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!(Number.isInteger(pid) && pid > 0 && Number.isInteger(port) && port > 0)) return undefined;
  const info = await inspectProcess(pid);
  const isPostgresHere = info !== undefined && path.basename(info.cmdline[0] ?? '') === 'postgres' && info.cmdline.includes(dataDir);
  return isPostgresHere ? { pid, port } : undefined;
}

async function inspectProcess(pid: number): Promise<ProcessInfo | undefined> {
  try {
    const [cmdline, stat] = await Promise.all([
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
      readFile(`/proc/${pid}/stat`, 'utf8'),
    ]);
    // stat is "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the last ')'.
    const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10);
    const args = cmdline.split('\0').filter(Boolean);
    if (args.length === 0) return undefined; // a zombie: already exited
    return { cmdline: args, ppid };
  } catch {
    return undefined;
  }
}

/** An orphan is re-parented to PID 1 (or a sub-reaper that is not node); a live switch is a node process. */
async function hasLiveOwner(ppid: number): Promise<boolean> {
  if (!Number.isInteger(ppid) || ppid <= 1) return false;
  try {
    const comm = (await readFile(`/proc/${ppid}/comm`, 'utf8')).trim();
    return comm === 'node' || comm.startsWith('node') || comm === 'MainThread';
  } catch {
    return false;
  }
}

async function stopOrphan(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT'); // fast shutdown: in-flight transactions roll back, data stays consistent
  } catch {
    return; // exited in the meantime
  }
  const deadline = Date.now() + ORPHAN_STOP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!(await inspectProcess(pid))) return;
    await sleep(100);
  }
  throw new EmbeddedServerError(`the orphaned postgres (pid ${pid}) did not stop within ${ORPHAN_STOP_TIMEOUT_MS} ms`);
}
