import { chmod, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Server, type Connection } from 'net-ipc';
import type { Logger } from '../observability/logger.js';
import type { RecentSnapshot } from '../observability/recent-stats.js';
import type { SwitchControl } from '../switch/control.js';
import { DEFAULT_ADMIN_SOCKET_PATH } from './config.js';
import {
  ADMIN_COMMANDS, AdminErrorCode, adminRequestSchema, isAdminCommand,
  type AdminAnswer, type AdminCommand, type AdminErrorBody,
} from './protocol.js';
import { checkSocketPath, claimSocketPath, ensureSocketDirectory, privateSocketName, probeSocket, releaseSocketPath } from './socket-claim.js';
import { AdminSocketInUseError, AdminSocketPathError } from './errors.js';

/** A handful of operators at most; more connections than this are a script gone wrong. */
const MAX_ADMIN_CONNECTIONS = 16;
const CLOSE_GRACE_MS = 2_000;
const ERROR_CODE = /^[A-Z][A-Z0-9_]*$/;

export interface AdminServerOptions {
  socketPath?: string;
  control: SwitchControl;
  /** Recent TPS and latency for `status` (the metrics' RecentStats); without it `recent` is null. */
  recent?: { snapshot(): RecentSnapshot };
  log: Logger;
}

export interface AdminServer {
  /** Absolute. */
  readonly socketPath: string;
  /** Stops listening and removes the socket file (unless another switch has taken the path since). */
  close(): Promise<void>;
}

function failure(code: string, message: string): AdminAnswer {
  return { ok: false, error: { code, message } };
}

/** The switch's own code when it has one (ConfigError's CONFIG_INVALID), so the CLI can tell cases apart. */
function describeFailure(error: unknown): AdminErrorBody {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    code: typeof code === 'string' && ERROR_CODE.test(code) ? code : AdminErrorCode.CommandFailed,
    message: error instanceof Error ? error.message : String(error),
  };
}

class AdminRequestHandler {
  /** The drain or reload running now: commands that change the switch do not overlap. */
  private changing: AdminCommand | undefined;

  constructor(private readonly options: AdminServerOptions) {}

  async answer(payload: unknown): Promise<AdminAnswer> {
    const { log } = this.options;
    const request = adminRequestSchema.safeParse(payload);
    if (!request.success) {
      // The issue, never the payload: whatever was sent is not logged.
      const issue = request.error.issues[0];
      log.warn({ code: AdminErrorCode.BadRequest, issue: issue?.code }, 'admin request refused');
      return failure(AdminErrorCode.BadRequest, `a request is {"command": "${ADMIN_COMMANDS.join('" | "')}"}: ${issue?.message ?? 'invalid'}`);
    }
    const { command } = request.data;
    if (!isAdminCommand(command)) {
      log.warn({ code: AdminErrorCode.UnknownCommand }, 'admin request refused');
      return failure(AdminErrorCode.UnknownCommand, `unknown command; the switch knows ${ADMIN_COMMANDS.join(', ')}`);
    }
    if (command !== 'status' && this.changing) {
      return failure(AdminErrorCode.Busy, `a ${this.changing} is in progress; try again when it is done`);
    }
    // Drains and reloads change the switch: they stay in the log; status polls would only drown them.
    if (command === 'status') log.debug({ command }, 'admin command');
    else log.info({ command }, 'admin command');
    try {
      return await this.run(command);
    } catch (error) {
      const body = describeFailure(error);
      log.warn({ command, code: body.code, reason: body.message }, 'admin command failed');
      return { ok: false, error: body };
    }
  }

  private async run(command: AdminCommand): Promise<AdminAnswer> {
    const { control, recent } = this.options;
    switch (command) {
      case 'status':
        return { ok: true, command, result: { switch: control.status(), recent: recent?.snapshot() ?? null } };
      case 'drain':
      case 'reload':
        this.changing = command;
        try {
          if (command === 'reload') return { ok: true, command, result: await control.reload() };
          await control.drain();
          const { accepting, inFlight } = control.status();
          return { ok: true, command, result: { accepting, inFlight } };
        } finally {
          this.changing = undefined;
        }
    }
  }
}

/**
 * The same refusal startAdminServer makes, for the serve command to run before it starts the switch: a
 * second instance then stops before touching the database or the partners' ports. startAdminServer still
 * claims the path atomically, so two instances starting at the same moment are caught there.
 */
export async function assertAdminSocketFree(socketPath: string = DEFAULT_ADMIN_SOCKET_PATH): Promise<void> {
  const path = resolve(socketPath);
  checkSocketPath(path);
  if ((await probeSocket(path)) === 'live') throw new AdminSocketInUseError(path);
}

/** net-ipc's start() resolves once listening but never rejects: a listen error arrives as an 'error' event. */
function listen(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new AdminSocketPathError(socketPath, `cannot listen (${error.code ?? error.message})`));
    };
    server.once('error', onError);
    server.start().then(() => {
      server.off('error', onError);
      resolve();
    }, reject);
  });
}

/**
 * The admin socket: `status`, `drain` and `reload`, answered through {@link SwitchControl}. Refuses to start
 * while another switch is live on the path; takes over a stale socket file. The file is 0600.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { log } = options;
  const socketPath = resolve(options.socketPath ?? DEFAULT_ADMIN_SOCKET_PATH);
  // Refuse early, before listening at all, when another switch is there (the common case of a second start).
  await assertAdminSocketFree(socketPath);
  await ensureSocketDirectory(socketPath);

  const privatePath = privateSocketName(socketPath);
  const server = new Server({ path: privatePath, max: MAX_ADMIN_CONNECTIONS });
  const handler = new AdminRequestHandler(options);
  server.on('request', (payload: unknown, respond: (answer: AdminAnswer) => Promise<void>) => {
    void handler.answer(payload)
      .then((answer) => respond(answer))
      .catch((error: unknown) => log.debug({ err: error }, 'admin answer not delivered (client gone)'));
  });
  // Garbage on the socket (not net-ipc framing, not JSON): net-ipc reports it here; the peer is dropped.
  // Only the error's name and code: a JSON.parse message quotes the bytes it choked on.
  server.on('error', (error: NodeJS.ErrnoException, connection?: Connection) => {
    log.warn({ error: error.name, code: error.code }, 'admin connection error: dropped');
    connection?.destroy();
  });

  let ino: number;
  try {
    await listen(server, socketPath);
    // Before the link: the socket is never reachable under its public name with looser permissions.
    await chmod(privatePath, 0o600);
    ino = await claimSocketPath(privatePath, socketPath);
  } catch (error) {
    await server.close().catch(() => undefined);
    throw error;
  } finally {
    await unlink(privatePath).catch(() => undefined);
  }
  log.info({ socket: socketPath }, 'admin socket listening');

  let closing: Promise<void> | undefined;
  return {
    socketPath,
    close() {
      closing ??= (async () => {
        // The name goes first, so that a CLI started now hears "not running" rather than a closing server.
        await releaseSocketPath(socketPath, ino);
        const closed = new Promise<void>((done) => {
          server.once('close', done);
          setTimeout(done, CLOSE_GRACE_MS).unref();
        });
        await server.close();
        await closed;
        log.info({ socket: socketPath }, 'admin socket closed');
      })();
      return closing;
    },
  };
}
