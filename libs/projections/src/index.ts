export * from './projection';
export { allProjections, projectionNamed } from './all-projections';
export * from './sessions/sessions.projection';
export * from './budget-reservations/budget-reservations.projection';
export * from './runs/runs.projection';
export * from './messages/messages.projection';
export * from './tool-calls/tool-calls.projection';
export * from './audit-log/audit-log.projection';
export {
  applyBatch,
  applyEvent,
  runProjections,
  type RunProjectionsOptions,
  type RunProjectionsResult,
} from './projection-runner';
export { tableOf } from './projection-tables';
export { rebuildProjection, type RebuildOptions, type RebuildProgress, type RebuildResult } from './rebuild-projection';
export { documentsDigest, readModelDigest } from './read-model-digest';
export { PROJECTED_CHANNEL, PROJECTOR_CONSUMER } from './projector-consumer';
