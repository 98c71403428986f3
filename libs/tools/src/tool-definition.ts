import { z } from 'zod';

/** A JSON-safe value: what a tool may return and what crosses the bus as its result. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ToolCategory = 'http' | 'data' | 'system' | 'mcp';
export type ToolRisk = 'low' | 'medium' | 'high';

/** Why a tool call failed, as the agent loop and the model see it. */
export type ToolErrorCode =
  | 'invalid_input'
  | 'unknown_tool'
  | 'timeout'
  | 'cancelled'
  | 'refused'
  | 'not_found'
  | 'too_large'
  | 'quota_exceeded'
  | 'upstream_error'
  | 'execution_failed'
  | 'unavailable'
  | 'invalid_output';

/** The one error a tool run ends with; `retryable` says whether the same call may succeed later. */
export class ToolError extends Error {
  constructor(
    readonly code: ToolErrorCode,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'ToolError';
  }

  toJSON(): { code: ToolErrorCode; message: string; retryable: boolean } {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export interface ToolContext {
  readonly sessionId: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly toolCallId: string;
  /** Aborted when the call times out or is cancelled; tools should stop their I/O on it. */
  readonly signal: AbortSignal;
}

export interface ToolResult {
  readonly output: JsonValue;
}

export type ToolExecutor<I = unknown> = (input: I, context: ToolContext) => Promise<ToolResult>;

export interface RetryPolicy {
  /** Total attempts including the first; 1 means never retried. */
  readonly maxAttempts: number;
  readonly retryable: (error: ToolError) => boolean;
}

export interface ToolDefinition<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly category: ToolCategory;
  readonly risk: ToolRisk;
  readonly inputSchema: S;
  /** JSON schema of the input, exported from `inputSchema`, for the model's tool list. */
  readonly jsonSchema: Record<string, unknown>;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly permissions: readonly string[];
}

/** A definition with the executor that runs it. */
export interface Tool<S extends z.ZodType = z.ZodType> {
  readonly definition: ToolDefinition<S>;
  readonly execute: ToolExecutor<z.output<S>>;
}

export const NO_RETRY: RetryPolicy = { maxAttempts: 1, retryable: () => false };

/** Builds a tool, deriving `jsonSchema` from the zod schema so the two can never disagree. */
export function defineTool<S extends z.ZodType>(
  definition: Omit<ToolDefinition<S>, 'jsonSchema' | 'retry'> & { retry?: RetryPolicy },
  execute: ToolExecutor<z.output<S>>,
): Tool<S> {
  const jsonSchema = z.toJSONSchema(definition.inputSchema, { io: 'input' }) as Record<string, unknown>;
  delete jsonSchema['$schema'];
  return { definition: { ...definition, retry: definition.retry ?? NO_RETRY, jsonSchema }, execute };
}
