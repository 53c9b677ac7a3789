import { z } from 'zod';

/** Relative to the working directory, next to the embedded database's `.data/postgres`. */
export const DEFAULT_ADMIN_SOCKET_PATH = '.data/jht-switch.sock';
/** Read by the CLI for its default `--socket`; the lead's loadConfig may read it too so both sides agree. */
export const ADMIN_SOCKET_ENV = 'JHT_ADMIN_SOCKET';

/** `admin:` in the switch configuration: the Unix socket `jht-switch status|drain|reload` talk to. */
export const adminConfigSchema = z.object({
  socketPath: z.string().min(1).default(DEFAULT_ADMIN_SOCKET_PATH),
}).strict().default({ socketPath: DEFAULT_ADMIN_SOCKET_PATH });

export type AdminConfig = z.output<typeof adminConfigSchema>;

/** The socket the CLI talks to when no --socket is given. */
export function defaultAdminSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env[ADMIN_SOCKET_ENV] || DEFAULT_ADMIN_SOCKET_PATH;
}
