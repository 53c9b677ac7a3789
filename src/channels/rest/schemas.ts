import { STAFF_REASON_CODES } from '../../inquiry/index.js';
import { PROBLEMS } from './problems.js';

/**
 * The route schemas: fastify validates requests and serialises answers with them, and @fastify/swagger
 * turns the same objects into the OpenAPI 3.1 document (specs/openapi.json).
 */

export const balanceInquiryBody = {
  $id: 'BalanceInquiryRequest',
  type: 'object',
  additionalProperties: false,
  required: ['kpj'],
  properties: {
    kpj: { type: 'string', pattern: '^[0-9]{11}$', description: 'The participant\'s BPJS Ketenagakerjaan number (KPJ), 11 digits' },
    nik: { type: 'string', pattern: '^[0-9]{16}$', description: 'National identity number, 16 digits: required for kiosks, refused otherwise' },
    reason: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'ticketId'],
      description: 'Why staff look the participant up: required with jht:balance:any; journaled',
      properties: {
        code: { type: 'string', enum: [...STAFF_REASON_CODES] },
        ticketId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,40}$' },
      },
    },
  },
} as const;

export const balanceAnswer = {
  $id: 'BalanceInquiryAnswer',
  type: 'object',
  additionalProperties: false,
  required: ['kpj', 'name', 'balance', 'asOf', 'reference'],
  properties: {
    kpj: { type: 'string', pattern: '^[0-9]{11}$' },
    name: { type: 'string' },
    balance: {
      type: 'object',
      additionalProperties: false,
      required: ['amount', 'currency'],
      properties: {
        amount: { type: 'string', pattern: '^[0-9]+\\.[0-9]{2}$', description: 'A decimal string, never a float', examples: ['15250000.00'] },
        currency: { type: 'string', const: 'IDR' },
      },
    },
    asOf: { type: 'string', format: 'date', description: 'The latest value date of the postings' },
    reference: { type: 'string', format: 'uuid', description: 'The inquiry as journaled; a repeat with the same Idempotency-Key gets the same one' },
  },
} as const;

export const problemDocument = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details (application/problem+json)',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', enum: Object.values(PROBLEMS).map((p) => p.type) },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    reference: { type: 'string', format: 'uuid' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['pointer', 'message'], properties: { pointer: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;

const problemRef = { $ref: 'Problem#' } as const;
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemRef } } });

export const balanceInquiryRoute = {
  operationId: 'createBalanceInquiry',
  summary: 'The JHT balance of one participant',
  description: 'POST so that the KPJ stays out of URLs and access logs. The channel (app, web, counter, call centre, kiosk) comes from the token\'s client, never from the body.',
  tags: ['balance'],
  security: [{ bearer: [] }],
  headers: {
    type: 'object',
    properties: {
      'idempotency-key': { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$', description: 'Honoured per client for 24 hours' },
      'x-request-id': { type: 'string', maxLength: 200, description: 'Echoed in the answer' },
    },
  },
  body: { $ref: 'BalanceInquiryRequest#' },
  response: {
    200: { description: 'The balance', content: { 'application/json': { schema: { $ref: 'BalanceInquiryAnswer#' } } } },
    401: problemResponse('Missing or invalid access token'),
    403: problemResponse('Scope does not allow this request (insufficient-scope), or the membership is blocked (membership-blocked)'),
    404: problemResponse('Neutral: no such participant, not yours, or a NIK that does not match'),
    409: problemResponse('The same Idempotency-Key is still being processed'),
    422: problemResponse('Validation error, or an Idempotency-Key reused for a different body'),
    429: problemResponse('Rate limit (per client, per participant); see Retry-After'),
    503: problemResponse('Ledger unavailable (breaker open or budget missed); see Retry-After'),
  },
} as const;
