import type { Refusal } from '../../inquiry/index.js';

/**
 * The REST API's one error catalogue (as fastify's lib/errors.js is fastify's): every answer other than 200
 * is an RFC 9457 problem document with one of these types. Titles are fixed; a detail never holds a KPJ, a
 * NIK or a token.
 */

export interface ProblemKind {
  readonly type: string;
  readonly status: number;
  readonly title: string;
}

const kind = (slug: string, status: number, title: string): ProblemKind => ({ type: `urn:jht-switch:problem:${slug}`, status, title });

export const PROBLEMS = {
  unauthorized: kind('unauthorized', 401, 'Missing or invalid access token'),
  insufficientScope: kind('insufficient-scope', 403, 'The token does not allow this request'),
  notFound: kind('not-found', 404, 'No participant matches this request'),
  membershipBlocked: kind('membership-blocked', 403, 'The membership is blocked or closed'),
  inFlight: kind('idempotency-in-flight', 409, 'A request with this Idempotency-Key is still being processed'),
  keyReused: kind('idempotency-key-reused', 422, 'This Idempotency-Key was used for a different request'),
  validation: kind('validation-error', 422, 'The request is not valid'),
  rateLimited: kind('rate-limited', 429, 'Too many requests'),
  unavailable: kind('unavailable', 503, 'The ledger is unavailable; try again later'),
  noSuchRoute: kind('no-such-route', 404, 'No such resource'),
  unsupportedMediaType: kind('unsupported-media-type', 415, 'The body must be application/json'),
  badRequest: kind('bad-request', 400, 'The request could not be read'),
  internal: kind('internal-error', 500, 'Internal error'),
} as const satisfies Record<string, ProblemKind>;

export const PROBLEM_OF_REFUSAL: Readonly<Record<Refusal, ProblemKind>> = {
  'insufficient-scope': PROBLEMS.insufficientScope,
  'not-found': PROBLEMS.notFound,
  'membership-blocked': PROBLEMS.membershipBlocked,
  // A REST inquiry names no card or account, so this never arises here; were it to, "blocked" is the truth.
  'instrument-blocked': PROBLEMS.membershipBlocked,
  incomplete: PROBLEMS.validation,
  'rate-limited': PROBLEMS.rateLimited,
  unavailable: PROBLEMS.unavailable,
  'in-flight': PROBLEMS.inFlight,
  'key-reused': PROBLEMS.keyReused,
};

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** The inquiry's reference when it reached the core (it is journaled under it). */
  reference?: string;
  /** Validation errors: which part of the request, never its value. */
  errors?: { pointer: string; message: string }[];
}

export function problem(kind: ProblemKind, extra: Omit<ProblemDocument, 'type' | 'title' | 'status'> = {}): ProblemDocument {
  return { type: kind.type, title: kind.title, status: kind.status, ...extra };
}

/** A refusal the channel answers before the core (a missing token, the client's own rate limit). */
export class RestProblem extends Error {
  constructor(readonly kind: ProblemKind, readonly detail?: string, readonly retryAfterSeconds?: number) {
    super(kind.title);
    this.name = 'RestProblem';
  }
}
