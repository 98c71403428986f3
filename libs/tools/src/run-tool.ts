import { ToolError, type JsonValue, type ToolContext, type ToolResult } from './tool-definition';
import type { ToolRegistry } from './tool-registry';

/** What the caller supplies; the signal handed to the tool is derived from `signal` plus the timeout. */
export type RunToolContext = Omit<ToolContext, 'signal'> & { readonly signal?: AbortSignal };

/**
 * Runs one tool call: validates the input against the tool's schema, then runs the executor with a
 * deadline enforced from outside — the tool's signal is aborted and its promise raced, so a tool
 * that ignores the signal still ends the call with `timeout` and its late result is discarded.
 * Retries follow the definition's retry policy, each attempt with a fresh deadline.
 */
export async function runTool(
  registry: ToolRegistry,
  name: string,
  input: unknown,
  context: RunToolContext,
): Promise<ToolResult> {
  const tool = registry.get(name);
  if (!tool) throw new ToolError('unknown_tool', `no tool named ${name}`);
  const parsed = tool.definition.inputSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
    throw new ToolError('invalid_input', issues.join('; '));
  }
  const { maxAttempts, retryable } = tool.definition.retry;
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptOnce(
        (signal) => tool.execute(parsed.data, { ...context, signal }),
        tool.definition.timeoutMs,
        context.signal,
      );
    } catch (error) {
      const toolError = asToolError(error);
      if (attempt >= maxAttempts || !retryable(toolError) || context.signal?.aborted) throw toolError;
    }
  }
}

async function attemptOnce(
  run: (signal: AbortSignal) => Promise<ToolResult>,
  timeoutMs: number,
  outer: AbortSignal | undefined,
): Promise<ToolResult> {
  if (outer?.aborted) throw new ToolError('cancelled', 'the call was cancelled');
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onOuterAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ToolError('timeout', `tool did not finish within ${timeoutMs} ms`, true));
      controller.abort(new ToolError('timeout', 'deadline passed'));
    }, timeoutMs);
    onOuterAbort = () => {
      reject(new ToolError('cancelled', 'the call was cancelled'));
      controller.abort(new ToolError('cancelled', 'cancelled'));
    };
    outer?.addEventListener('abort', onOuterAbort, { once: true });
  });
  try {
    // Promise.resolve().then: a tool that throws synchronously is reported like one that rejects.
    const result = await Promise.race([Promise.resolve().then(() => run(controller.signal)), stop]);
    return { output: toJsonSafe(result.output) };
  } finally {
    clearTimeout(timer);
    if (onOuterAbort) outer?.removeEventListener('abort', onOuterAbort);
  }
}

function toJsonSafe(output: unknown): JsonValue {
  try {
    const text = JSON.stringify(output);
    if (text === undefined) return null;
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new ToolError('invalid_output', `tool output is not JSON: ${(error as Error).message}`);
  }
}

function asToolError(error: unknown): ToolError {
  if (error instanceof ToolError) return error;
  return new ToolError('execution_failed', error instanceof Error ? error.message : String(error));
}
