import type { Actor, Role } from '@nexus/events';
import { ForbiddenError, NotFoundError } from '../errors';

/**
 * Who may do what to what, in one table. Every decider (and the query side's visibility) asks
 * here rather than spelling out its own role checks.
 *
 * Relations an actor can have to a resource: `owner` (the user who opened the session, started the
 * run, or requested the tool call) and the roles of their token. `service` is Nexus's own
 * components (agent loop, gateway, tool runner, timers), which act on behalf of owners.
 */
export type Relation = 'owner' | Role;

export const actions = {
  /** See a session, run, tool call or its events and audit entries. */
  read: ['owner', 'approver', 'admin', 'service'],
  /** Close a session (and its budget). */
  'session.close': ['owner', 'admin', 'service'],
  /**
   * Spend a session's budget: start a run in it, reserve, consume or release directly, or charge
   * a chat completion to it. Spending is acting as the owner, so even an admin may not.
   */
  'session.spend': ['owner', 'service'],
  'run.cancel': ['owner', 'admin', 'service'],
  /** Approve or reject a tool call awaiting approval (never one's own: see `approval_self`). */
  'toolCall.decide': ['approver', 'admin'],
} as const satisfies Record<string, readonly Relation[]>;
export type Action = keyof typeof actions;

/** What authorization needs to know of a resource. `ownerId` null: owned by nobody (legacy data). */
export interface Owned {
  readonly tenantId: string;
  readonly ownerId: string | null;
}

export const relationsOf = (actor: Actor, resource: Owned): ReadonlySet<Relation> => {
  const relations = new Set<Relation>(actor.roles);
  if (resource.ownerId !== null && actor.userId === resource.ownerId) relations.add('owner');
  return relations;
};

/** Whether the actor may do the action; another tenant's resource is never allowed anything. */
export const isAllowed = (actor: Actor, action: Action, resource: Owned): boolean => {
  if (actor.tenantId !== resource.tenantId) return false;
  const relations = relationsOf(actor, resource);
  return actions[action].some((relation) => relations.has(relation));
};

/**
 * Throws unless the actor may do the action. Across tenants the resource does not exist (404,
 * never 403, so existence never leaks); inside the tenant a refusal is 403 `forbidden`.
 */
export function authorize(actor: Actor, action: Action, resource: Owned, what: string): void {
  if (actor.tenantId !== resource.tenantId) throw new NotFoundError(`${what} not found`);
  if (!isAllowed(actor, action, resource)) {
    const who = actions[action].map((relation) => (relation === 'owner' ? `the ${what.toLowerCase()}'s owner` : relation)).join(', ');
    throw new ForbiddenError(`Only ${who} may ${describe[action]}`);
  }
}

const describe: Record<Action, string> = {
  read: 'see it',
  'session.close': 'close the session',
  'session.spend': "spend the session's budget",
  'run.cancel': 'cancel the run',
  'toolCall.decide': 'decide approvals',
};

/**
 * Operations on the deployment rather than on one resource: the roles that may run each over
 * every tenant, and those that may run it over their own tenant only. A read model is one set of
 * tables every tenant reads, so rebuilding it cannot be narrowed to a tenant: operators only.
 * Nexus's services act for an owner, never on the deployment, so they get neither.
 */
export const platformOperations = {
  'audit.verify': { everyTenant: ['operator'], ownTenant: ['admin'], what: 'verify the audit chains' },
  'projection.rebuild': { everyTenant: ['operator'], ownTenant: [], what: 'rebuild a read model' },
  // Lags, consumers, dead-letter counts and breakers: the shared machinery's state, no tenant's
  // data, which a tenant's admin needs to tell a slow platform from a slow run.
  'operations.read': { everyTenant: ['operator'], ownTenant: ['admin'], what: "see the deployment's operations" },
  // The report shows tool inputs, a tenant's data: an operator, who sees none, may not run it.
  'policy.whatIf': { everyTenant: [], ownTenant: ['admin'], what: 'evaluate candidate policies on recorded tool calls' },
} as const satisfies Record<string, { everyTenant: readonly Role[]; ownTenant: readonly Role[]; what: string }>;
export type PlatformOperation = keyof typeof platformOperations;

/** Which tenants an operation covers for an actor: `tenantId` null means every tenant. */
export interface PlatformScope {
  readonly tenantId: string | null;
}

/** The scope the actor may run the operation in; throws ForbiddenError when it may not at all. */
export function platformScope(actor: Actor, operation: PlatformOperation): PlatformScope {
  const { everyTenant, ownTenant, what } = platformOperations[operation];
  const holds = (allowed: readonly Role[]) => actor.roles.some((role) => allowed.includes(role));
  if (holds(everyTenant)) return { tenantId: null };
  if (holds(ownTenant)) return { tenantId: actor.tenantId };
  const who = [...everyTenant.map((role) => `an ${role}`), ...ownTenant.map((role) => `an ${role} (of their own tenant)`)];
  throw new ForbiddenError(`Only ${who.join(' or ')} may ${what}`);
}
