// Every error the API sends is `{"error":{"code","message"}}` with a code of the one error table
// (ledger/src/protocol/errors.ts). This module maps whatever was thrown (our ProtocolError, fastify's
// parser and validation errors, rate limiting, database outages) onto that table.
import type { FastifyError, FastifyReply } from 'fastify';
import { ERROR_CODES, ProtocolError, type ErrorCode } from '../../ledger/src/protocol/errors.js';

export { ProtocolError, ERROR_CODES, type ErrorCode };

export interface ApiError {
  status: number;
  code: ErrorCode;
  message: string;
}

/** Seconds a client should wait before retrying a 503 (sent as Retry-After). */
export const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = { overloaded: 1, unavailable: 5 };

export function apiError(code: ErrorCode, message?: string): ApiError {
  return { status: ERROR_CODES[code].status, code, message: message ?? ERROR_CODES[code].message };
}

// Connection-level failures of postgres.js and node:net, and PostgreSQL SQLSTATEs that mean "the server
// cannot serve now" (class 08 connection exceptions, 53 insufficient resources, 57P0x shutdown/crash).
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

export function isDatabaseOutage(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return OUTAGE_CODES.has(code) || code.startsWith('08') || code.startsWith('53') || code.startsWith('57P');
}

/**
 * The one message a client gets for a database outage. The database's own text ("the database system is
 * shutting down", host names, ports, role names) stays in the server log: it describes the inside.
 */
export const DATABASE_UNAVAILABLE = 'the ledger database is unavailable; retry later';

/** The error or any error in its `cause` chain is a database outage. */
function causedByOutage(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (isDatabaseOutage(e)) return true;
  }
  return false;
}

/** Which param a failed params validation names (ajv `instancePath` "/electionId" or `params.missingProperty`). */
function failedParam(err: FastifyError): string {
  const v = err.validation?.[0];
  if (!v) return '';
  if (v.instancePath) return v.instancePath.replace(/^\//, '');
  const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
  return missing ?? '';
}

/** Map anything thrown while serving a request onto the error table. */
export function toApiError(err: unknown): ApiError {
  if (causedByOutage(err)) return apiError('unavailable', DATABASE_UNAVAILABLE);
  if (err instanceof ProtocolError) return apiError(err.code, err.message);
  const e = err as FastifyError;
  if (e?.validation) {
    switch (e.validationContext) {
      case 'params': {
        // An id that cannot exist is simply not there; a malformed hash is the client's hex.
        const param = failedParam(e);
        if (param === 'electionId') return apiError('unknown-election');
        if (param === 'ballotHash') return apiError('invalid-hex', 'ballotHash must be 32-byte lowercase hex');
        if (param === 'credential') return apiError('invalid-hex', 'credential must be 32-byte lowercase hex');
        return apiError('not-found');
      }
      case 'querystring':
        return apiError('invalid-query', `${e.message}`);
      default: {
        // Election creation: say which part is wrong in the codes the protocol uses for it.
        const path = e.validation[0]?.instancePath ?? '';
        const field = path.split('/')[1];
        if (field === 'manifest') return apiError('invalid-manifest', e.message);
        if (field === 'roll') return apiError('invalid-roll', e.message);
        return apiError('invalid-body', e.message);
      }
    }
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return apiError('malformed-json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return apiError('body-too-large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return apiError('unsupported-media-type');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return apiError('invalid-body', 'the Content-Length does not match the body');
  }
  // secure-json-parse (fastify's JSON parser) throws a SyntaxError, to which the parser adds statusCode 400,
  // on bad JSON and on __proto__ / constructor.prototype keys. A SyntaxError thrown by our own code while
  // handling the request has no status: a bug, 500 (and logged).
  if (e instanceof SyntaxError && e.statusCode === 400) return apiError('malformed-json', e.message);
  if (e instanceof SyntaxError) return apiError('internal');
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 429) return apiError('rate-limited');
  if (status === 413) return apiError('body-too-large');
  if (status === 415) return apiError('unsupported-media-type');
  if (status === 404) return apiError('not-found');
  if (status >= 400 && status < 500) return apiError('invalid-body', e.message);
  return apiError('internal');
}

/** Send an error body; 503s carry Retry-After, 401s WWW-Authenticate. */
export function sendApiError(reply: FastifyReply, error: ApiError): FastifyReply {
  const retryAfter = RETRY_AFTER_SECONDS[error.code];
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  if (error.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="tallyproof-admin"');
  // Plain JSON.stringify: the route's response schema for that status (e.g. health's 503) may describe another body.
  return reply
    .code(error.status)
    .type('application/json; charset=utf-8')
    .serializer(JSON.stringify)
    .send({ error: { code: error.code, message: error.message } });
}
