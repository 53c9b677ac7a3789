import { z } from 'zod';

/** Relative to the working directory, next to the embedded database's `.data/postgres`. */
export const DEFAULT_ADMIN_SOCKET_PATH = '.data/jht-switch.sock';
/** The operator audit log's name, in the socket's directory unless admin.auditLogPath says otherwise. */
export const DEFAULT_AUDIT_LOG_NAME = 'operator-audit.log';
/** Read by the CLI for its default `--socket`; the lead's loadConfig may read it too so both sides agree. */
export const ADMIN_SOCKET_ENV = 'JHT_ADMIN_SOCKET';

/** `admin:` in the switch configuration: the Unix socket `jht-switch status|drain|reload` talk to. */
export const adminConfigSchema = z.object({
  socketPath: z.string().min(1).default(DEFAULT_ADMIN_SOCKET_PATH),
  /**
   * The operator audit log: append-only (O_APPEND, 0600) JSON lines, one per command other than status,
   * with the caller's uid. By default `operator-audit.log` beside the socket.
   */
  auditLogPath: z.string().min(1).optional(),
}).strict().default({ socketPath: DEFAULT_ADMIN_SOCKET_PATH });

export type AdminConfig = z.output<typeof adminConfigSchema>;

/** The socket the CLI talks to when no --socket is given. */
export function defaultAdminSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[ADMIN_SOCKET_ENV] || DEFAULT_ADMIN_SOCKET_PATH;
}
