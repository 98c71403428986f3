import { budgetEventDataSchemas, budgetSchemaVersions } from './budget.events';
import { runEventDataSchemas, runSchemaVersions } from './run.events';
import { sessionEventDataSchemas, sessionSchemaVersions } from './session.events';
import { toolCallEventDataSchemas, toolCallSchemaVersions } from './tool-call.events';

/** The current schema version of every event type Nexus writes, across all streams. */
export const eventSchemaVersions: Readonly<Record<string, number>> = {
  ...sessionSchemaVersions,
  ...budgetSchemaVersions,
  ...runSchemaVersions,
  ...toolCallSchemaVersions,
};

/** The data schema of every event type, for validating stored events when they are read. */
export const eventDataSchemas = {
  ...sessionEventDataSchemas,
  ...budgetEventDataSchemas,
  ...runEventDataSchemas,
  ...toolCallEventDataSchemas,
};

/** The schema version to stamp on a new event; an unknown type is a programming error. */
export function schemaVersionOf(type: string): number {
  const version = eventSchemaVersions[type];
  if (version === undefined) throw new Error(`No schema version registered for event type ${type}`);
  return version;
}
