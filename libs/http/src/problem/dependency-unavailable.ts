/**
 * Errors that mean a dependency (PostgreSQL, NATS, Redis) is away for now, not that the request or
 * the server is wrong: the client should try again shortly. Matched by code, name and message
 * rather than by class so that this library need not load every driver.
 */

/** Socket errors, from any driver, while a server is down or restarting. */
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs of a server going away: class 08 (connection exception), 57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or recovering),
 * 53300 too_many_connections (every backend taken while clients reconnect at once).
 */
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300']);

/** What node-postgres, nats.js and ioredis say when their connection is gone. */
const unavailableMessages = [
  /^Connection terminated/i, // node-postgres: the server closed the socket
  /terminating connection/i, // PostgreSQL's own notice, when it arrives before the socket closes
  /Client has encountered a connection error and is not queryable/i,
  /^timeout exceeded when trying to connect/i,
  /Stream isn't writeable/i, // ioredis with the offline queue off
  /^Connection is closed/i, // ioredis
  /^connection disconnected/i, // nats.js, a request while reconnecting
];

/**
 * nats.js (`ConnectionError`, `ClosedConnectionError`, …) and ioredis error class names, and the
 * bus's own for an internal command that command-api could not take (its database away).
 */
const unavailableNames = new Set([
  'ConnectionError',
  'ClosedConnectionError',
  'DrainingConnectionError',
  'NoRespondersError',
  'MaxRetriesPerRequestError',
  'CommandSideUnavailableError',
]);

function matches(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && (socketCodes.has(code) || unavailableStates.has(code) || code.startsWith('08'))) return true;
  if (typeof name === 'string' && unavailableNames.has(name)) return true;
  return typeof message === 'string' && unavailableMessages.some((pattern) => pattern.test(message));
}

/**
 * True when `error`, or an error it wraps (`cause`, an `AggregateError`'s `errors`, as Node
 * raises for a refused connection tried on several addresses), says a dependency is unavailable.
 */
export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  if (matches(error)) return true;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (isDependencyUnavailable(cause, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((inner) => isDependencyUnavailable(inner, depth + 1));
}
