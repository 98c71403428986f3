import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from './problem';
import { ProblemException } from './problem.exception';

/**
 * Longest path parameter the router hands to a route. Above Fastify's default of 100, so that
 * every id the validation schemas accept (128 characters, a stream id's category on top) reaches
 * them and gets their 400; anything longer is 414 `uri_too_long`.
 */
export const MAX_PARAM_LENGTH = 256;

/**
 * What the router refuses before any hook, guard or filter runs — a malformed percent-escape
 * (`FST_ERR_BAD_URL`), an over-long path parameter — as Nexus problems. Without this Fastify
 * answers with its own body naming its own error codes.
 */
const routerProblem = (error: Error & { code?: string }): ProblemException => {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return new ProblemException(400, 'validation_failed', 'Validation failed', 'The request URL is not valid: it has a malformed percent-escape.', {
        errors: [{ field: '(url)', message: 'has a malformed percent-escape' }],
      });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ProblemException(414, 'uri_too_long', 'URI too long', `A path segment of the request URL is longer than ${MAX_PARAM_LENGTH} characters.`);
    default:
      return new ProblemException(400, 'malformed_request', 'Malformed request', 'The request could not be routed.');
  }
};

/** Fastify's `frameworkErrors`: the router's refusals as problem documents. */
export function answerRouterError(error: Error, _request: FastifyRequest, reply: FastifyReply): void {
  const { document, headers } = toProblem(routerProblem(error));
  void reply.status(document.status).headers(headers).type('application/problem+json').send(document);
}

const parserProblem = (code: string | undefined): ProblemException => {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ProblemException(431, 'headers_too_large', 'Request headers too large', 'The request line and headers are larger than this server accepts.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ProblemException(408, 'request_timeout', 'Request timeout', 'The request was not received in time.');
    default:
      return new ProblemException(400, 'malformed_request', 'Malformed request', 'The request is not valid HTTP/1.1.');
  }
};

/** How long a refused connection may keep sending before it is cut. */
const drainMs = 2_000;
const answered = new WeakSet<Socket>();

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before Fastify sees a request
 * (headers over the size limit, malformed HTTP, a request too slow to arrive), answered with a
 * problem document written on the raw socket — there is no request or reply object to use.
 * The connection is half-closed and what the client still sends is read and dropped for a moment:
 * destroying it at once would make the kernel reset a connection with unread data, and the
 * client would see a reset instead of the answer.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  // Node's own rule: a response already under way on this connection cannot be followed by another.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (!socket.writable || inFlight) {
    socket.destroy();
    return;
  }
  const { document } = toProblem(parserProblem(error.code));
  const body = JSON.stringify(document);
  socket.end(
    `HTTP/1.1 ${document.status} ${STATUS_CODES[document.status] ?? ''}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  socket.on('error', () => undefined);
  socket.resume();
  setTimeout(() => socket.destroy(), drainMs).unref();
}
