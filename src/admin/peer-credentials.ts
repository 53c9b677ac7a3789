import { execFile } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import type { Socket } from 'node:net';

/**
 * Who is at the other end of an accepted Unix socket: SO_PEERCRED, which Node does not expose.
 *
 * Linux only, in three steps, each from the kernel rather than from the client:
 * 1. our end's inode, from /proc/self/fd/<fd> (`socket:[inode]`);
 * 2. the peer's inode and process, from `ss -xp` (iproute2's sock_diag query: UNIX_DIAG_PEER gives the
 *    peer of each socket, and ss maps socket inodes to processes through /proc/<pid>/fd);
 * 3. that process's real uid, from /proc/<pid>/status, after checking that /proc/<pid>/fd/<fd> is still the
 *    peer socket (so a pid reused in between is not believed).
 *
 * Limits: it needs `ss` on the PATH and a /proc that shows the peer's process (same uid as the switch, or a
 * switch running as root; hidepid=2 hides other users' processes). The admin socket is 0600, so only the
 * switch's own user and root can connect: both are visible. A client that exits before the lookup, or
 * whose socket was passed to another process, is reported as unknown (uid null, with the reason), never
 * guessed. The uid a client claims (SUDO_UID) is recorded beside it, never instead of it.
 */
export interface PeerCredentials {
  /** Real uid of the peer process; null when it could not be established. */
  readonly uid: number | null;
  readonly pid: number | null;
  /** Why uid is null. */
  readonly unknownBecause?: string;
}

const SS_TIMEOUT_MS = 2_000;
const SS_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** The end of an `ss -xpnH` line: local address, local inode, peer address, peer inode, then the processes. */
const SS_LINE = /(\d+)\s+\S+\s+(\d+)\s*(users:\(\(.*\)\))?\s*$/;
const SS_PROCESS = /pid=(\d+),fd=(\d+)/g;

interface SocketEnd {
  readonly peerInode: string;
  readonly processes: readonly { pid: number; fd: number }[];
}

function unknown(unknownBecause: string): PeerCredentials {
  return { uid: null, pid: null, unknownBecause };
}

/** The file descriptor of an accepted socket: libuv's pipe handle has it on Unix. */
function fdOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

async function inodeOfFd(path: string): Promise<string | undefined> {
  const target = await readlink(path).catch(() => undefined);
  return /^socket:\[(\d+)\]$/.exec(target ?? '')?.[1];
}

function runSs(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-xpnH'], { timeout: SS_TIMEOUT_MS, maxBuffer: SS_MAX_OUTPUT_BYTES }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout);
    });
  });
}

/** Every Unix socket `ss` lists, by its own inode. */
export function parseSsOutput(text: string): Map<string, SocketEnd> {
  const sockets = new Map<string, SocketEnd>();
  for (const line of text.split('\n')) {
    const match = SS_LINE.exec(line);
    if (!match) continue;
    const [, inode, peerInode, users] = match as unknown as [string, string, string, string | undefined];
    const processes = [...(users ?? '').matchAll(SS_PROCESS)].map((m) => ({ pid: Number(m[1]), fd: Number(m[2]) }));
    sockets.set(inode, { peerInode, processes });
  }
  return sockets;
}

async function realUidOf(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const uid = /^Uid:\s+(\d+)/m.exec(status ?? '')?.[1];
  return uid === undefined ? undefined : Number(uid);
}

/** The peer of an accepted Unix socket; never throws. */
export async function peerCredentials(socket: Socket): Promise<PeerCredentials> {
  if (process.platform !== 'linux') return unknown('not Linux');
  const fd = fdOf(socket);
  if (fd === undefined) return unknown('no file descriptor');
  const ours = await inodeOfFd(`/proc/self/fd/${fd}`);
  if (ours === undefined) return unknown('not a socket');
  let listing: Map<string, SocketEnd>;
  try {
    listing = parseSsOutput(await runSs());
  } catch (error) {
    return unknown(`ss failed (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const peerInode = listing.get(ours)?.peerInode;
  const peer = peerInode === undefined ? undefined : listing.get(peerInode);
  if (peerInode === undefined || peer === undefined) return unknown('peer socket not found');
  for (const { pid, fd: peerFd } of peer.processes) {
    const uid = await realUidOf(pid);
    // Checked after reading the uid: if the pid had been reused, this fd would not be the peer's socket.
    if (uid !== undefined && (await inodeOfFd(`/proc/${pid}/fd/${peerFd}`)) === peerInode) return { uid, pid };
  }
  return unknown(peer.processes.length === 0 ? 'peer process not visible' : 'peer process gone');
}
