import { describe, expect, it } from '@jest/globals';
import { toProblem } from './problem';

/** Errors as the drivers raise them, shaped by hand (no server needed to say what they look like). */
const withFields = (message: string, fields: Record<string, unknown>): Error => Object.assign(new Error(message), fields);
const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

describe('a dependency that is away', () => {
  it.each([
    ['a refused connection tried on two addresses', new AggregateError([withFields('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' })], '')],
    ['a server shut down by its administrator (57P01)', withFields('terminating connection due to administrator command', { code: '57P01' })],
    ['a server still starting (57P03)', withFields('the database system is starting up', { code: '57P03' })],
    ['a connection exception (class 08)', withFields('connection failure', { code: '08006' })],
    ['a socket closed by the server', new Error('Connection terminated unexpectedly')],
    ['a postmaster that died', new Error('terminating connection due to unexpected postmaster exit')],
    ['a client already broken', new Error('Client has encountered a connection error and is not queryable')],
    ['NATS reconnecting', named('ConnectionError', 'connection refused')],
    ['a NATS request while disconnected', named('RequestError', 'connection disconnected')],
    ['Redis with its offline queue off', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['Redis out of retries', named('MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 2).')],
    ['an internal command command-api could not take', named('CommandSideUnavailableError', 'internal command not answered: no responders')],
    ['a wrapped cause', new Error('append failed', { cause: withFields('read ECONNRESET', { code: 'ECONNRESET' }) })],
  ])('answers 503 unavailable with Retry-After for %s, and says nothing of it', (_, error) => {
    const problem = toProblem(error);
    expect(problem.document).toEqual({
      type: 'urn:nexus:problem:unavailable',
      title: 'Service unavailable',
      status: 503,
      code: 'unavailable',
      detail: 'A service Nexus depends on is unavailable; retry shortly.',
    });
    expect(Number(problem.headers['retry-after'])).toBeGreaterThan(0);
  });

  it.each([
    ['a failing statement', withFields('syntax error at or near "SELEC"', { code: '42601' })],
    ['a unique violation', withFields('duplicate key value violates unique constraint', { code: '23505' })],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ])('still answers 500 for %s: the server is wrong, not away', (_, error) => {
    expect(toProblem(error).document).toMatchObject({ status: 500, code: 'internal_error' });
  });
});
