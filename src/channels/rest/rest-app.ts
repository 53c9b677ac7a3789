import { createHash } from 'node:crypto';
import type { ServerOptions as HttpsOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { JSONWebKeySet } from 'jose';
import type { AccessRule, Channel, Credential, Inquiry, InquiryCore, InquiryOutcome, RateLimiter, Requester } from '../../inquiry/index.js';
import { ACCESS_RULE } from '../../inquiry/index.js';
import type { Logger } from '../../observability/logger.js';
import { DEV_JWKS_PATH, SCOPES } from './dev-issuer.js';
import { PROBLEMS, PROBLEM_OF_REFUSAL, RestProblem, problem, type ProblemDocument, type ProblemKind } from './problems.js';
import { balanceAnswer, balanceInquiryBody, balanceInquiryRoute, problemDocument } from './schemas.js';
import type { TokenVerifier, VerifiedToken } from './token-verifier.js';

/** The OpenAPI document's fixed part; the paths come from the route schemas. */
export const OPENAPI_INFO = {
  title: 'jht-switch balance inquiries',
  version: '1.0.0',
  description: 'JHT balance inquiries for BPJS Ketenagakerjaan\'s channels: apps, website, counter, call centre, kiosks.',
};

export interface RestAppOptions {
  core: InquiryCore;
  /** Resolved per request: the verifier may be made once the listener's port is known (the demo's JWKS URL). */
  verifier: () => TokenVerifier;
  clients: ReadonlyMap<string, Channel>;
  clientLimiter: RateLimiter;
  log: Logger;
  /** The demo's development JWKS, served at /dev/jwks.json; never outside the demo. */
  devJwks?: JSONWebKeySet | undefined;
  /** node https options (mutual TLS), or plain HTTP on loopback. */
  https?: HttpsOptions | undefined;
}

interface BalanceBody {
  kpj: string;
  nik?: string;
  reason?: { code: string; ticketId: string };
}

const GRANT_OF_SCOPE: ReadonlyMap<string, AccessRule> = new Map([[SCOPES.self, 'self'], [SCOPES.any, 'any'], [SCOPES.kiosk, 'kiosk']]);
const SAFE_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

interface Authenticated {
  token: VerifiedToken;
  channel: Channel;
}

const authenticated = new WeakMap<FastifyRequest, Authenticated>();
const thumbprints = new WeakMap<object, string | undefined>();

export async function buildRestApp(options: RestAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Requests are logged by the core, one line per inquiry without KPJ, NIK or token; fastify's own
    // request lines are off, and its logger is ours (errors only).
    loggerInstance: options.log.child({ channel: 'rest' }),
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: nothing logs through request.log, and a pino child per request is garbage.
    childLoggerFactory: (logger) => logger,
    bodyLimit: 4_096,
    ...(options.https ? { https: options.https } : {}),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    // With `https` fastify's types name an https server; the app is used the same way either way.
  }) as unknown as FastifyInstance;

  app.addSchema(balanceInquiryBody);
  app.addSchema(balanceAnswer);
  app.addSchema(problemDocument);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (RFC 9068 access token)' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setNotFoundHandler((_request, reply) => sendProblem(reply, PROBLEMS.noSuchRoute));
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error instanceof RestProblem) return sendProblem(reply, error.kind, { detail: error.detail }, error.retryAfterSeconds);
    if (error.validation) {
      const errors = error.validation.map((v) => ({ pointer: `${error.validationContext === 'headers' ? '/headers' : ''}${v.instancePath || '/'}`, message: v.message ?? 'invalid' }));
      return sendProblem(reply, PROBLEMS.validation, { errors });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendProblem(reply, PROBLEMS.unsupportedMediaType);
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return sendProblem(reply, PROBLEMS.badRequest, { detail: error.code });
    options.log.error({ err: error }, 'rest: unexpected error');
    return sendProblem(reply, PROBLEMS.internal);
  });

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  if (options.devJwks) {
    const jwks = options.devJwks;
    app.get(DEV_JWKS_PATH, { schema: { hide: true } }, () => jwks);
  }

  app.post<{ Body: BalanceBody }>('/v1/balance-inquiries', {
    schema: balanceInquiryRoute,
    preValidation: async (request) => authenticate(request, options),
  }, async (request, reply) => {
    const auth = authenticated.get(request)!;
    const outcome = await options.core.balance(credentialOf(auth, request), inquiryOf(auth, request, performance.now() - reply.elapsedTime));
    return render(reply, outcome);
  });
  return app;
}

/** Auth before validation, so an anonymous caller learns nothing about the body's rules; then the client's limit. */
async function authenticate(request: FastifyRequest, options: RestAppOptions): Promise<void> {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
  if (!match) throw new RestProblem(PROBLEMS.unauthorized, 'a Bearer access token is required');
  const check = await options.verifier().verify(match[1]!);
  if (!check.ok) throw new RestProblem(PROBLEMS.unauthorized, check.reason);
  const channel = options.clients.get(check.token.clientId);
  if (channel === undefined) throw new RestProblem(PROBLEMS.unauthorized, 'client is not registered with this API');
  const admission = options.clientLimiter.take(check.token.clientId);
  if (!admission.allowed) throw new RestProblem(PROBLEMS.rateLimited, 'client rate limit', admission.retryAfterSeconds);
  authenticated.set(request, { token: check.token, channel });
}

function credentialOf(auth: Authenticated, request: FastifyRequest): Credential {
  const grants = new Set<AccessRule>();
  for (const scope of auth.token.scopes) {
    const grant = GRANT_OF_SCOPE.get(scope);
    if (grant) grants.add(grant);
  }
  const presented = peerThumbprint(request);
  const bound = auth.token.certificateThumbprint;
  return { grants, subject: auth.token.subject, deviceBound: bound !== undefined && presented !== undefined && bound === presented };
}

function inquiryOf(auth: Authenticated, request: FastifyRequest<{ Body: BalanceBody }>, startedAt: number): Inquiry {
  const { body } = request;
  const rule = ACCESS_RULE[auth.channel];
  const { clientId, subject } = auth.token;
  const requester: Requester = rule === 'any' ? { kind: 'staff', clientId, staffId: subject }
    : rule === 'kiosk' ? { kind: 'device', clientId, certificateThumbprint: peerThumbprint(request) ?? 'none' }
      : { kind: 'oauth', clientId, subject };
  if (rule !== 'kiosk' && body.nik !== undefined) throw new RestProblem(PROBLEMS.validation, 'nik is for kiosks only');
  const key = request.headers['idempotency-key'];
  return {
    channel: auth.channel,
    requester,
    participant: body.nik === undefined ? { kind: 'kpj', kpj: body.kpj } : { kind: 'kpj+nik', kpj: body.kpj, nik: body.nik },
    idempotencyKey: typeof key === 'string' ? key : undefined,
    reason: body.reason,
    receivedAt: new Date(),
    startedAt,
    remoteAddress: request.ip,
  };
}

/** RFC 8705: base64url SHA-256 of the client certificate's DER, once per TLS connection. */
function peerThumbprint(request: FastifyRequest): string | undefined {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  if (thumbprints.has(socket)) return thumbprints.get(socket);
  const raw = socket.getPeerCertificate().raw as Buffer | undefined;
  const thumbprint = raw ? createHash('sha256').update(raw).digest('base64url') : undefined;
  thumbprints.set(socket, thumbprint);
  return thumbprint;
}

/** Every answer of the API echoes a well-formed X-Request-ID: set where it is sent, not in an onSend hook per request. */
function echoRequestId(reply: FastifyReply): void {
  const id = reply.request.headers['x-request-id'];
  if (typeof id === 'string' && SAFE_REQUEST_ID.test(id)) reply.header('x-request-id', id);
}

function render(reply: FastifyReply, outcome: InquiryOutcome): FastifyReply {
  reply.header('cache-control', 'no-store');
  if (outcome.kind === 'answered') {
    echoRequestId(reply);
    const { answer } = outcome;
    return reply.code(200).send({
      kpj: answer.kpj,
      name: answer.name,
      balance: { amount: formatSen(answer.balanceSen), currency: 'IDR' },
      asOf: answer.asOf,
      reference: outcome.reference,
    });
  }
  const kind = PROBLEM_OF_REFUSAL[outcome.refusal];
  return sendProblem(reply, kind, { reference: outcome.reference, ...(outcome.detail ? { detail: outcome.detail } : {}) }, outcome.retryAfterSeconds);
}

/** Sen (BigInt) to a decimal string with two places: 1525000000n -> "15250000.00". */
export function formatSen(sen: bigint): string {
  const sign = sen < 0n ? '-' : '';
  const abs = sen < 0n ? -sen : sen;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

function sendProblem(reply: FastifyReply, kind: ProblemKind, extra: { detail?: string | undefined; reference?: string; errors?: ProblemDocument['errors'] } = {}, retryAfterSeconds?: number): FastifyReply {
  echoRequestId(reply);
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
  if (kind === PROBLEMS.unauthorized) reply.header('www-authenticate', 'Bearer error="invalid_token"');
  if (kind === PROBLEMS.insufficientScope) reply.header('www-authenticate', 'Bearer error="insufficient_scope"');
  const { detail, ...rest } = extra;
  return reply.code(kind.status).type('application/problem+json').send(problem(kind, detail === undefined ? rest : { ...rest, detail }));
}
