import { toolCallDecider, toToolCallStreamId } from '@nexus/domain';
import type { CommandTarget } from '../../command-handling/command-handling.service';
import type { CommandContext } from '../../http/command-request';
import type { ApproveToolCallRequest } from './approve-tool-call.request.dto';

export const approveToolCall = (toolCallId: string, request: ApproveToolCallRequest, { actor, at }: CommandContext): readonly CommandTarget[] => [
  {
    streamId: toToolCallStreamId(toolCallId),
    decider: toolCallDecider,
    command: { type: 'ApproveToolCall', data: { toolCallId, reason: request.reason ?? null, argsDigest: request.argsDigest ?? null, actor, at } },
  },
];
