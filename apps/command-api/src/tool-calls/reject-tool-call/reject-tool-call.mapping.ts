import { toolCallDecider, toToolCallStreamId } from '@nexus/domain';
import type { CommandTarget } from '../../command-handling/command-handling.service';
import type { CommandContext } from '../../http/command-request';
import type { RejectToolCallRequest } from './reject-tool-call.request.dto';

export const rejectToolCall = (toolCallId: string, { reason }: RejectToolCallRequest, { actor, at }: CommandContext): readonly CommandTarget[] => [
  { streamId: toToolCallStreamId(toolCallId), decider: toolCallDecider, command: { type: 'RejectToolCall', data: { toolCallId, reason, actor, at } } },
];
