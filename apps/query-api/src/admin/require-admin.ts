import { ProblemException, type AuthenticatedRequest } from '@nexus/http';

/** Operator endpoints are for admins (and Nexus's own services) only. */
export function requireAdmin(request: AuthenticatedRequest): void {
  if (!request.auth.actor.roles.some((role) => role === 'admin' || role === 'service')) {
    throw new ProblemException(403, 'forbidden', 'Forbidden', 'This operation needs the admin role.');
  }
}
