import { z } from 'zod';
import { budgetDecider, runDecider, toBudgetStreamId, toolCallDecider, toRunStreamId, toToolCallStreamId } from '@nexus/domain';
import { budgetCommandSchema, runCommandSchema, toolCallCommandSchema } from '@nexus/events';
import type { CommandPlan, CommandTarget } from '../../command-handling/command-handling.service';

type Decider = CommandTarget['decider'];

/** Where each stream's internal commands go; each is validated by its stream's contract first. */
const routes = [
  { schema: runCommandSchema, decider: runDecider as Decider, streamId: (d: { runId: string }) => toRunStreamId(d.runId) },
  {
    schema: toolCallCommandSchema,
    decider: toolCallDecider as Decider,
    streamId: (d: { toolCallId: string }) => toToolCallStreamId(d.toolCallId),
  },
  {
    schema: budgetCommandSchema,
    decider: budgetDecider as Decider,
    streamId: (d: { sessionId: string }) => toBudgetStreamId(d.sessionId),
  },
] as const;

const allInternalCommands = z.union(routes.map((route) => route.schema));

/**
 * A domain command from another Nexus service (agent loop, llm-gateway, tool-runner, timers): already
 * in domain form, it still passes its stream's schema (a `ZodError` listing what is wrong) and a decider.
 */
export function internalCommandPlan(command: unknown): CommandPlan {
  for (const route of routes) {
    const parsed = route.schema.safeParse(command);
    if (parsed.success) {
      const streamId = (route.streamId as (data: unknown) => string)(parsed.data.data);
      return [{ streamId, decider: route.decider, command: parsed.data }];
    }
  }
  allInternalCommands.parse(command); // throws the ZodError that lists what is wrong
  throw new Error('unreachable: a command no route accepts passed the union');
}
