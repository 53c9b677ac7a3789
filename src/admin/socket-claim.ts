import { link, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { AdminSocketInUseError, AdminSocketPathError } from './errors.js';

/**
 * Taking a Unix socket path safely.
 *
 * Listening on a path that exists fails, so servers (net-ipc among them) usually delete the path first,
 * which silently steals the socket from a switch that is still running: its operators lose their console.
 * Here the path is only ever removed once it is proven stale (nobody accepts on it), and it is taken
 * with link(2), which fails if the path exists, so two switches starting at the same moment cannot both win:
 * the server listens on a private name first, and that socket is then linked under the public one.
 */

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const PROBE_TIMEOUT_MS = 1_000;
const CLAIM_ATTEMPTS = 3;

export type SocketPathState = 'free' | 'live' | 'stale';

let privateNames = 0;

/** A name beside `socketPath` (link(2) needs the same file system) that only this process uses. */
export function privateSocketName(socketPath: string): string {
  return `${socketPath}.${process.pid}.${++privateNames}`;
}

export function checkSocketPath(socketPath: string): void {
  if (Buffer.byteLength(privateSocketName(socketPath)) > MAX_SOCKET_PATH_BYTES) {
    throw new AdminSocketPathError(socketPath, `too long for a Unix socket (keep it under ${MAX_SOCKET_PATH_BYTES - 16} bytes)`);
  }
}

/** Makes the socket's directory when it does not exist yet. */
export async function ensureSocketDirectory(socketPath: string): Promise<void> {
  // The socket file itself is 0600: that is what keeps other users out. Its directory (by default .data,
  // shared with the embedded PostgreSQL, whose server runs as its own user) must stay traversable.
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o755 });
}

/** Whether a server accepts connections on `socketPath`. */
export async function probeSocket(socketPath: string): Promise<SocketPathState> {
  let stats;
  try {
    stats = await lstat(socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'free';
    throw new AdminSocketPathError(socketPath, `cannot be checked (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (!stats.isSocket()) throw new AdminSocketPathError(socketPath, 'exists and is not a socket; it is left alone');
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    const done = (state: SocketPathState | Error): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      if (state instanceof Error) reject(state);
      else resolve(state);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done('live')); // accepted but silent, or a full backlog: someone is there
    socket.once('connect', () => done('live'));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') done('stale');
      else if (error.code === 'ENOENT') done('free');
      else done(new AdminSocketPathError(socketPath, `cannot be checked (${error.code ?? error.message})`));
    });
  });
}

/** Removes `socketPath` if it is stale; refuses if a server is live on it. */
async function clearStale(socketPath: string): Promise<void> {
  const state = await probeSocket(socketPath);
  if (state === 'live') throw new AdminSocketInUseError(socketPath);
  if (state === 'stale') {
    try {
      await unlink(socketPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new AdminSocketPathError(socketPath, `stale, and cannot be removed (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }
  }
}

/**
 * Publishes the socket listening at `privatePath` under `socketPath`. Returns the inode, by which close()
 * later recognises the path as still its own.
 */
export async function claimSocketPath(privatePath: string, socketPath: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    await clearStale(socketPath);
    try {
      await link(privatePath, socketPath);
      return (await lstat(socketPath)).ino;
    } catch (error) {
      // Someone took the path between the check and the link: check again who it is.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === CLAIM_ATTEMPTS) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new AdminSocketInUseError(socketPath);
        throw new AdminSocketPathError(socketPath, `cannot be created (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }
  }
}

/** Removes `socketPath` only if it is still the socket this process claimed (inode `ino`). */
export async function releaseSocketPath(socketPath: string, ino: number): Promise<void> {
  try {
    if ((await lstat(socketPath)).ino === ino) await unlink(socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
