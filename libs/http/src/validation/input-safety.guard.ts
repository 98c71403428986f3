import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { hasLoneSurrogate, storableText } from '@nexus/events';
import { ProblemException } from '../problem/problem.exception';

/** Deepest nesting of objects and arrays a request body may have. */
export const MAX_JSON_DEPTH = 64;

export interface UnsafeInput {
  readonly field: string;
  readonly message: string;
}

const unsafeText = (text: string): string | undefined =>
  text.includes('\u0000') ? 'contains a NUL character' : hasLoneSurrogate(text) ? 'contains a lone surrogate' : undefined;

/** A field name safe to echo in a problem document. */
const shown = (name: string): string => storableText(name).text;

/**
 * The first thing in a parsed body or query that Nexus refuses: nesting deeper than
 * `MAX_JSON_DEPTH`, or text PostgreSQL cannot store (NUL, lone surrogates) in a value or a key.
 * Walks with an explicit stack, so a hostile depth costs memory, not the call stack.
 */
export function findUnsafeInput(value: unknown, root: string): UnsafeInput | undefined {
  const stack: [unknown, string, number][] = [[value, root, 0]];
  while (stack.length > 0) {
    const [current, path, depth] = stack.pop() as [unknown, string, number];
    if (typeof current === 'string') {
      const problem = unsafeText(current);
      if (problem !== undefined) return { field: path, message: problem };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { field: path, message: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
    const entries = Array.isArray(current) ? current.map((item, i) => [String(i), item] as const) : Object.entries(current);
    for (const [key, item] of entries) {
      const at = path === '(body)' || path === '' ? shown(key) : `${path}.${shown(key)}`;
      const problem = unsafeText(key);
      if (problem !== undefined) return { field: at, message: `has a name that ${problem}` };
      stack.push([item, at, depth + 1]);
    }
  }
  return undefined;
}

/**
 * Input limits at the edge, for every route of the apps that take requests: a body or query
 * that is too deep or holds text PostgreSQL cannot store is refused with 400
 * `validation_failed` before anything reads it further — no handler, hash or decider sees it,
 * and nothing is written.
 */
@Injectable()
export class InputSafetyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const unsafe = findUnsafeInput(request.body, '(body)') ?? findUnsafeInput(request.query, '');
    if (unsafe !== undefined) {
      throw new ProblemException(400, 'validation_failed', 'Validation failed', `${unsafe.field || '(query)'} ${unsafe.message}.`, {
        errors: [unsafe],
      });
    }
    return true;
  }
}
