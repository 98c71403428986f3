import { isAllowed } from '@nexus/domain';
import type { Actor } from '@nexus/events';
import { ProblemException } from '@nexus/http';

/**
 * Reading follows the one rule set (`@nexus/domain` authorization, action `read`): inside a tenant
 * a user sees what they own; approvers, admins and Nexus's services see the tenant's. Read models
 * are already scoped to the caller's tenant; across tenants nothing exists (404, never 403).
 */
export const seesWholeTenant = (caller: Actor): boolean => isAllowed(caller, 'read', { tenantId: caller.tenantId, ownerId: null });

/** Whether the caller may read what `ownerId` owns in the caller's own tenant. */
export const mayRead = (caller: Actor, ownerId: string | null | undefined): boolean =>
  isAllowed(caller, 'read', { tenantId: caller.tenantId, ownerId: ownerId ?? null });

export function visibleOr404<T extends { userId?: string | null }>(doc: T | undefined, caller: Actor, what: string): T {
  if (doc === undefined || !mayRead(caller, doc.userId)) {
    throw new ProblemException(404, 'not_found', 'Not found', `${what} was not found.`);
  }
  return doc;
}

/** Whose documents a caller's lists are narrowed to: their own, or nobody's in particular for who sees the whole tenant. */
export const listedOwner = (caller: Actor): string | undefined => (seesWholeTenant(caller) ? undefined : caller.userId);
