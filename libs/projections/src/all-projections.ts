import { auditLogProjection } from './audit-log/audit-log.projection';
import { budgetReservationsProjection } from './budget-reservations/budget-reservations.projection';
import { messagesProjection } from './messages/messages.projection';
import type { Projection } from './projection';
import { runsProjection } from './runs/runs.projection';
import { sessionsProjection } from './sessions/sessions.projection';
import { toolCallsProjection } from './tool-calls/tool-calls.projection';

/** Every read model of the query side. */
export const allProjections: readonly Projection[] = [
  sessionsProjection,
  budgetReservationsProjection,
  toolCallsProjection,
  runsProjection,
  messagesProjection,
  auditLogProjection,
] as readonly Projection[];

export function projectionNamed(name: string): Projection {
  const projection = allProjections.find((p) => p.name === name);
  if (!projection) throw new Error(`unknown projection ${name}`);
  return projection;
}
