import { join } from 'node:path';
import { ToolRegistry } from './tool-registry';
import { httpPolicyFromEnv } from './http/address-policy';
import { createHttpRequestTool, type HttpRequestToolOptions } from './http/http-request.tool';
import { createFilesReadTool, createFilesWriteTool } from './files/files.tools';
import { DEFAULT_WORKSPACE_LIMITS, type WorkspaceLimits } from './files/workspace';
import { createCodeExecutionTool, type CodeExecutionOptions } from './code/code-execution.tool';
import { createMemoryTools, type MemoryToolsOptions } from './memory/memory.tools';

export interface BuiltinToolsOptions {
  readonly http: HttpRequestToolOptions;
  readonly workspace: WorkspaceLimits;
  readonly code?: CodeExecutionOptions;
  /** Absent: the memory tools are not registered. */
  readonly memory?: MemoryToolsOptions;
}

/** The options API.md's configuration implies (`NEXUS_HTTP_*`, `NEXUS_DATA_DIR`), read from `env`. */
export function builtinToolsOptionsFromEnv(env: Record<string, string | undefined>): Omit<BuiltinToolsOptions, 'memory'> {
  const timeout = env['NEXUS_HTTP_TIMEOUT_MS'];
  const timeoutMs = timeout === undefined ? undefined : Number(timeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) throw new Error('NEXUS_HTTP_TIMEOUT_MS must be a positive integer');
  return {
    // The command side reads the timeout too: it sets the deadline of a started call.
    http: { ...httpPolicyFromEnv(env), ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    workspace: { ...DEFAULT_WORKSPACE_LIMITS, dataDir: env['NEXUS_DATA_DIR'] ?? join(process.cwd(), '.nexus') },
  };
}

/** A registry with every built-in tool of API.md. */
export function createBuiltinToolRegistry(options: BuiltinToolsOptions): ToolRegistry {
  const registry = new ToolRegistry()
    .register(createHttpRequestTool(options.http))
    .register(createFilesReadTool(options.workspace))
    .register(createFilesWriteTool(options.workspace))
    .register(createCodeExecutionTool(options.code));
  if (options.memory) for (const tool of createMemoryTools(options.memory)) registry.register(tool);
  return registry;
}
