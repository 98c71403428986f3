import { HttpException } from '@nestjs/common';
import { ZodError } from 'zod';
import { DomainError, type DomainErrorCode } from '@nexus/domain';
import { isDependencyUnavailable } from './dependency-unavailable';
import { ProblemException, type FieldError } from './problem.exception';

/**
 * How long a client is told to wait while a dependency is away: a database restart or a bus
 * reconnect takes seconds, and a short wait spreads the retries of many clients.
 */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/** An RFC 9457 problem document with Nexus's stable machine `code`. */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly errors?: readonly FieldError[];
  readonly [extension: string]: unknown;
}

export interface Problem {
  readonly document: ProblemDocument;
  readonly headers: Record<string, string>;
  /** True when the server failed (not the client): worth logging with its stack. */
  readonly internal: boolean;
}

const domainStatus: Record<DomainErrorCode, { status: number; title: string }> = {
  not_found: { status: 404, title: 'Not found' },
  invalid_state: { status: 409, title: 'Invalid state' },
  budget_exceeded: { status: 409, title: 'Budget exceeded' },
  forbidden: { status: 403, title: 'Forbidden' },
  approval_self: { status: 403, title: 'Approver is the requester' },
  validation_failed: { status: 400, title: 'Validation failed' },
  conflict: { status: 409, title: 'Conflict' },
};

/** Codes for the statuses the HTTP layer itself produces (routing, body parsing). */
const statusCodes: Record<number, { code: string; title: string }> = {
  400: { code: 'validation_failed', title: 'Validation failed' },
  401: { code: 'unauthorized', title: 'Unauthorized' },
  403: { code: 'forbidden', title: 'Forbidden' },
  404: { code: 'not_found', title: 'Not found' },
  405: { code: 'method_not_allowed', title: 'Method not allowed' },
  406: { code: 'not_acceptable', title: 'Not acceptable' },
  409: { code: 'conflict', title: 'Conflict' },
  413: { code: 'payload_too_large', title: 'Payload too large' },
  415: { code: 'unsupported_media_type', title: 'Unsupported media type' },
  429: { code: 'rate_limited', title: 'Too many requests' },
};

const documentOf = (
  status: number,
  code: string,
  title: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): ProblemDocument => ({ type: `urn:nexus:problem:${code}`, title, status, detail, code, ...extensions });

/**
 * The 400 for a request part that failed its schema, listing each offending field. `root` names
 * the part itself, for issues about it as a whole (unknown fields, not an object): `(body)`,
 * `(query)`, or a path parameter's name.
 */
export function validationProblem(error: ZodError, root = '(body)'): ProblemException {
  const errors: FieldError[] = error.issues.map((issue) => ({
    field: issue.path.length === 0 ? root : issue.path.join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
  const detail = `The request is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`;
  return new ProblemException(400, 'validation_failed', 'Validation failed', detail, { errors });
}

/** Fastify's own errors (body parsing, size limits) carry a status and an `FST_` code. */
const isFastifyError = (error: unknown): error is Error & { statusCode: number; code: string } =>
  error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number';

const fastifyDetail = (error: Error & { code: string }): string => {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The request body is not valid JSON.';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The request body is larger than this server accepts.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Send JSON bodies as application/json.';
    default:
      return error.code.startsWith('FST_') ? 'The request could not be processed.' : error.message;
  }
};

/**
 * Turns any error into a problem document that is safe to send: domain errors and validation
 * failures keep their messages; anything unexpected becomes a bare 500 with no internals.
 */
export function toProblem(error: unknown): Problem {
  if (error instanceof ProblemException) {
    return {
      document: documentOf(error.status, error.code, error.title, error.detail, error.extensions),
      headers: error.headers,
      internal: error.status >= 500,
    };
  }
  if (error instanceof DomainError) {
    const { status, title } = domainStatus[error.code];
    return { document: documentOf(status, error.code, title, error.message), headers: {}, internal: false };
  }
  if (error instanceof ZodError) return toProblem(validationProblem(error));
  if (isDependencyUnavailable(error)) {
    // Nothing of the driver's message goes out: it may name hosts, ports or SQL.
    return {
      document: documentOf(503, 'unavailable', 'Service unavailable', 'A service Nexus depends on is unavailable; retry shortly.'),
      headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
      internal: false,
    };
  }
  const status = error instanceof HttpException ? error.getStatus() : isFastifyError(error) ? error.statusCode : 500;
  const known = statusCodes[status];
  if (status < 500 && known !== undefined) {
    const detail = isFastifyError(error) ? fastifyDetail(error) : error instanceof Error ? error.message : known.title;
    return { document: documentOf(status, known.code, known.title, detail), headers: {}, internal: false };
  }
  return {
    document: documentOf(500, 'internal_error', 'Internal error', 'The server failed to handle the request.'),
    headers: {},
    internal: true,
  };
}
