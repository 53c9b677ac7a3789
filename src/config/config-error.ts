/** Where in a configuration file something is: 1-based, as editors count. */
export interface ConfigPosition {
  readonly line: number;
  readonly col: number;
}

/**
 * A configuration that does not validate. The message names the file, the line and column when known, the
 * partner and the key, and why; never a value from the file, since a configuration holds MAC keys and
 * database passwords and this message goes to stderr at start and into the JSON log on `reload`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(readonly source: string, readonly path: string, reason: string, readonly position?: ConfigPosition) {
    super(`${source}${position ? `:${position.line}:${position.col}` : ''}: ${path ? `${path}: ` : ''}${reason}`);
  }
}
