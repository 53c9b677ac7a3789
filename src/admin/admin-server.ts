import { chmod, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Server, type Connection } from 'net-ipc';
import type { Logger } from '../observability/logger.js';
import type { RecentSnapshot } from '../observability/recent-stats.js';
import type { SwitchControl } from '../channels/atm/control.js';
import { OperatorAuditLog } from './audit-log.js';
import { DEFAULT_ADMIN_SOCKET_PATH, DEFAULT_AUDIT_LOG_NAME } from './config.js';
import { peerCredentials, type PeerCredentials } from './peer-credentials.js';
import {
  ADMIN_COMMANDS, AdminErrorCode, adminRequestSchema, isAdminCommand,
  type AdminAnswer, type AdminCommand, type AdminErrorBody,
} from './protocol.js';
import { checkSocketPath, claimSocketPath, ensureSocketDirectory, privateSocketName, probeSocket, releaseSocketPath } from './socket-claim.js';
import type { AdminAuditLogError } from './errors.js';
import { AdminSocketInUseError, AdminSocketPathError } from './errors.js';

/** A handful of operators at most; more connections than this are a script gone wrong. */
const MAX_ADMIN_CONNECTIONS = 16;
const CLOSE_GRACE_MS = 2_000;
const ERROR_CODE = /^[A-Z][A-Z0-9_]*$/;
/** The socket is created with this umask, so it is 0600 from the moment it exists (bind(2) applies it). */
const SOCKET_UMASK = 0o177;

export interface AdminServerOptions {
  socketPath?: string;
  /** The operator audit log; `operator-audit.log` in the socket's directory by default. */
  auditLogPath?: string | undefined;
  control: SwitchControl;
  /** Recent TPS and latency for `status` (the metrics' RecentStats); without it `recent` is null. */
  recent?: { snapshot(): RecentSnapshot };
  log: Logger;
}

export interface AdminServer {
  /** Absolute. */
  readonly socketPath: string;
  readonly auditLogPath: string;
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

/** Who sent a request: the kernel's answer, and what the client claims. */
interface Caller {
  readonly peer: Promise<PeerCredentials>;
  readonly sudoUid?: string | undefined;
}

class AdminRequestHandler {
  /** The drain or reload running now: commands that change the switch do not overlap. */
  private changing: AdminCommand | undefined;
  /** Set once a line could not be written: from then on, audited commands are refused (fail closed). */
  private auditBroken: AdminAuditLogError | undefined;

  constructor(private readonly options: AdminServerOptions, private readonly audit: OperatorAuditLog) {}

  /**
   * Every command but status is audited: drain, reload and every command added later (the data commands)
   * unless it is listed here, so a new command cannot be forgotten.
   */
  private static audited(command: string): boolean {
    return command !== 'status';
  }

  async answer(payload: unknown, peer: () => Promise<PeerCredentials>): Promise<AdminAnswer> {
    const startedAt = new Date().toISOString();
    const command = (payload as { command?: unknown } | null)?.command;
    const sudoUid = (payload as { sudoUid?: unknown } | null)?.sudoUid;
    if (typeof command !== 'string' || !AdminRequestHandler.audited(command)) return this.answerRequest(payload);
    // Looked up while the command runs, and before the client can hang up on a long drain.
    const caller = { peer: peer(), sudoUid: typeof sudoUid === 'string' && /^\d{1,10}$/.test(sudoUid) ? sudoUid : undefined };
    const answer = await this.answerRequest(payload);
    // A name the switch does not know is not copied into the audit log: it is whatever the client sent.
    return this.recorded(answer, caller, isAdminCommand(command) ? command : '(unknown)', startedAt);
  }

  /** Writes the operation's audit line; the caller's uid goes into the JSON log line too. */
  private async recorded(answer: AdminAnswer, caller: Caller, command: string, startedAt: string): Promise<AdminAnswer> {
    const { log } = this.options;
    const who = await caller.peer;
    const code = answer.ok ? undefined : answer.error.code;
    const refused = code === AdminErrorCode.BadRequest || code === AdminErrorCode.UnknownCommand || code === AdminErrorCode.Busy
      || code === AdminErrorCode.AuditUnavailable;
    const entry = {
      command,
      startedAt,
      endedAt: new Date().toISOString(),
      outcome: answer.ok ? 'ok' as const : refused ? 'refused' as const : 'failed' as const,
      code,
      uid: who.uid,
      pid: who.pid,
      uidUnknownBecause: who.unknownBecause,
      sudoUid: caller.sudoUid,
    };
    log.info({ command: entry.command, outcome: entry.outcome, uid: who.uid, sudoUid: caller.sudoUid }, 'admin command audited');
    try {
      await this.audit.record(entry);
    } catch (error) {
      this.auditBroken = error as AdminAuditLogError;
      log.error({ command: entry.command, uid: who.uid, code: this.auditBroken.code, reason: this.auditBroken.message },
        'operator audit log not written: further audited commands are refused');
    }
    return answer;
  }

  private async answerRequest(payload: unknown): Promise<AdminAnswer> {
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
    if (AdminRequestHandler.audited(command) && this.auditBroken) {
      return failure(AdminErrorCode.AuditUnavailable, `${this.auditBroken.message}: ${command} is refused until it can be`);
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
    // net-ipc binds synchronously inside start(): the umask covers bind(2) and nothing else. Before, the
    // socket existed for a moment with the process's umask (often 0755 or 0775) until the chmod.
    const previous = process.umask(SOCKET_UMASK);
    let started: Promise<unknown>;
    try {
      started = server.start();
    } finally {
      process.umask(previous);
    }
    started.then(() => {
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

  // Opened before the socket exists: without an audit log there is no admin socket (fail closed).
  const auditLogPath = resolve(options.auditLogPath ?? join(dirname(socketPath), DEFAULT_AUDIT_LOG_NAME));
  const audit = await OperatorAuditLog.open(auditLogPath);

  const privatePath = privateSocketName(socketPath);
  const server = new Server({ path: privatePath, max: MAX_ADMIN_CONNECTIONS });
  const handler = new AdminRequestHandler(options, audit);
  server.on('request', (payload: unknown, respond: (answer: AdminAnswer) => Promise<void>, connection: Connection) => {
    void handler.answer(payload, () => peerCredentials(connection.connection))
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
    // The umask made it 0600 at bind(2); this only repeats it, in case a platform ignored the umask.
    await chmod(privatePath, 0o600);
    ino = await claimSocketPath(privatePath, socketPath);
  } catch (error) {
    await server.close().catch(() => undefined);
    await audit.close();
    throw error;
  } finally {
    await unlink(privatePath).catch(() => undefined);
  }
  log.info({ socket: socketPath, auditLog: auditLogPath }, 'admin socket listening');

  let closing: Promise<void> | undefined;
  return {
    socketPath,
    auditLogPath,
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
        await audit.close();
        log.info({ socket: socketPath }, 'admin socket closed');
      })();
      return closing;
    },
  };
}
