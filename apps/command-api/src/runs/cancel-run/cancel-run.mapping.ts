import { runDecider, toRunStreamId } from '@nexus/domain';
import type { CommandTarget } from '../../command-handling/command-handling.service';
import type { CommandContext } from '../../http/command-request';
import type { CancelRunRequest } from './cancel-run.request.dto';

export const cancelRun = (runId: string, { reason }: CancelRunRequest, { actor, at }: CommandContext): readonly CommandTarget[] => [
  { streamId: toRunStreamId(runId), decider: runDecider, command: { type: 'CancelRun', data: { runId, reason: reason ?? null, actor, at } } },
];
