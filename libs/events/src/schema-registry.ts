import { budgetEventContract, type BudgetEvent } from './budget.events';
import type { RecordedEventOf } from './contract';
import type { RecordedEvent } from './envelope';
import { runEventContract, type RunEvent } from './run.events';
import { sessionEventContract, type SessionEvent } from './session.events';
import { streamCategory } from './stream-ids';
import { toolCallEventContract, type ToolCallEvent } from './tool-call.events';

/** Every stream's event contract. */
export const eventContracts = [sessionEventContract, budgetEventContract, runEventContract, toolCallEventContract] as const;

/** Any event Nexus writes, of any stream. */
export type NexusEvent = SessionEvent | BudgetEvent | RunEvent | ToolCallEvent;

/** The current schema version of every event type Nexus writes, across all streams. */
export const eventSchemaVersions: Readonly<Record<string, number>> = {
  ...sessionEventContract.versions,
  ...budgetEventContract.versions,
  ...runEventContract.versions,
  ...toolCallEventContract.versions,
};

/** The data schema of every event type, for validating stored events when they are read. */
export const eventDataSchemas = {
  ...sessionEventContract.dataSchemas,
  ...budgetEventContract.dataSchemas,
  ...runEventContract.dataSchemas,
  ...toolCallEventContract.dataSchemas,
};

/** The schema version to stamp on a new event; an unknown type is a programming error. */
export function schemaVersionOf(type: string): number {
  const version = eventSchemaVersions[type];
  if (version === undefined) throw new Error(`No schema version registered for event type ${type}`);
  return version;
}

const contractOf = new Map<string, (typeof eventContracts)[number]>(eventContracts.map((c) => [c.stream.category, c]));

/**
 * A stored event of any stream as this code reads it: upcast by its stream's contract and typed
 * as the union of every stream's events (narrow it by `type`). For readers of the whole log —
 * projections, the bus's consumers — that see every stream.
 */
export function readEvent(event: RecordedEvent): RecordedEventOf<NexusEvent> {
  const contract = contractOf.get(streamCategory(event.streamId));
  if (contract === undefined) throw new Error(`${event.streamId}: no contract for its stream`);
  return contract.read(event);
}
