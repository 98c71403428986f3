import { toolResultStatuses } from '@nexus/events';

export type ToolResultStatus = (typeof toolResultStatuses)[number];

/**
 * How a tool result travels to a model: the run contract's tool message has only `content`, so the
 * status rides in front of it — `succeeded: <result>`, `failed: <error>`, `denied: <rule>`, … (the
 * `ToolResultRecorded.status` values). Callers build tool messages with this function.
 */
export function formatToolResultContent(status: ToolResultStatus, content: string): string {
  return `${status}: ${content}`;
}

/**
 * Reads back what `formatToolResultContent` wrote. Content without a known status prefix counts as
 * `succeeded` with the whole content as its result (a caller that never failed a tool).
 */
export function parseToolResultContent(content: string): { status: ToolResultStatus; body: string } {
  const match = /^([a-z]+):[ ]?/.exec(content);
  const status = toolResultStatuses.find((known) => known === match?.[1]);
  if (!match || !status) return { status: 'succeeded', body: content };
  return { status, body: content.slice(match[0].length) };
}
