/**
 * Classifies and describes errors from `pg` without leaking data: a PostgreSQL error's `detail` (and for
 * some SQLSTATEs its message) quotes the offending values, so logs get only the SQLSTATE and the names
 * of the objects involved.
 */

interface PgErrorShape {
  code?: unknown;
  message?: unknown;
  constraint?: unknown;
  table?: unknown;
  column?: unknown;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

function sqlstateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as PgErrorShape).code;
  return typeof code === 'string' && SQLSTATE.test(code) ? code : undefined;
}

/**
 * True when the rows themselves were rejected (SQLSTATE class 22 data exception, 23 integrity
 * violation): sending the same batch again can never succeed. Everything else — connection refused,
 * admin shutdown, deadlock, even a missing table — is worth retrying, because it can be fixed under us.
 */
export function isRejectedData(error: unknown): boolean {
  const state = sqlstateOf(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/** True for a deadlock or serialization failure: the statement may simply be run again. */
export function isRetryableConflict(error: unknown): boolean {
  const state = sqlstateOf(error);
  return state === '40P01' || state === '40001';
}

/** Log-safe fields of a database or network error. */
export function describeDatabaseError(error: unknown): Record<string, string> {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const shape = error as PgErrorShape;
  const state = sqlstateOf(error);
  if (state === undefined) {
    // Socket-level failures (ECONNREFUSED, "Connection terminated", pool timeouts) carry no row data.
    const described: Record<string, string> = { message: String(shape.message) };
    if (typeof shape.code === 'string') described.code = shape.code;
    return described;
  }
  const described: Record<string, string> = { sqlstate: state };
  for (const key of ['constraint', 'table', 'column'] as const) {
    const value = shape[key];
    if (typeof value === 'string') described[key] = value;
  }
  return described;
}
