import type { Actor } from '@nexus/events';
import { ProblemException } from '@nexus/http';

/**
 * Inside a tenant, a user sees what they own; approvers, admins and Nexus's services see the
 * tenant's. Across tenants nothing exists (404, never 403).
 */
export const seesWholeTenant = (caller: Actor): boolean =>
  caller.roles.some((role) => role === 'admin' || role === 'approver' || role === 'service');

export function visibleOr404<T extends { userId?: string | null }>(doc: T | undefined, caller: Actor, what: string): T {
  if (doc === undefined || (!seesWholeTenant(caller) && doc.userId !== caller.userId)) {
    throw new ProblemException(404, 'not_found', 'Not found', `${what} was not found.`);
  }
  return doc;
}

export const pageLimit = (limit: number | undefined): number => Math.min(Math.max(limit ?? 50, 1), 200);
