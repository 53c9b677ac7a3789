/** Errors of the admin socket, each with a code to switch on. */

/** Another switch answers on the socket: starting a second one there would steal it from under the first. */
export class AdminSocketInUseError extends Error {
  override readonly name = 'AdminSocketInUseError';
  readonly code = 'ADMIN_SOCKET_IN_USE';
  constructor(readonly socketPath: string) {
    super(`another jht-switch is already running with the admin socket ${socketPath}; stop it, or give this one another admin.socketPath`);
  }
}

/** The path cannot be used as a socket: it is something else, too long, or cannot be checked. */
export class AdminSocketPathError extends Error {
  override readonly name = 'AdminSocketPathError';
  readonly code = 'ADMIN_SOCKET_PATH_INVALID';
  constructor(readonly socketPath: string, reason: string) {
    super(`admin socket ${socketPath}: ${reason}`);
  }
}

/** Nothing listens on the socket (CLI side). */
export class AdminNotRunningError extends Error {
  override readonly name = 'AdminNotRunningError';
  readonly code = 'ADMIN_NOT_RUNNING';
  constructor(readonly socketPath: string) {
    super(`no switch is running at ${socketPath}`);
  }
}

/** The connection failed or broke, or the answer was not one the protocol allows (CLI side). */
export class AdminConnectionError extends Error {
  override readonly name = 'AdminConnectionError';
  readonly code = 'ADMIN_CONNECTION_FAILED';
  constructor(readonly socketPath: string, reason: string) {
    super(`admin socket ${socketPath}: ${reason}`);
  }
}

/**
 * The switch answered with an error. `code` is the switch's: `CONFIG_INVALID` for a reload refused by
 * validation, one of {@link AdminErrorCode} otherwise.
 */
export class AdminCommandError extends Error {
  override readonly name = 'AdminCommandError';
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The operator audit log cannot be opened or written: operations that must be audited are refused. */
export class AdminAuditLogError extends Error {
  override readonly name = 'AdminAuditLogError';
  readonly code = 'ADMIN_AUDIT_LOG_FAILED';
  constructor(readonly auditLogPath: string, reason: string) {
    super(`operator audit log ${auditLogPath}: cannot be written (${reason})`);
  }
}
