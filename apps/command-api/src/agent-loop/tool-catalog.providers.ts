import type { Provider } from '@nestjs/common';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { loadPolicyEngine, POLICY_ENGINE } from '@nexus/policy';
import {
  builtinToolsOptionsFromEnv,
  createBuiltinToolRegistry,
  LexicalHashEmbedder,
  mcpServersFromEnv,
  MountedToolRegistry,
  PgVectorMemoryAdapter,
  type ToolRegistry,
} from '@nexus/tools';

/** The tools the deployment offers; here only their definitions are read (the tool-runner runs them). */
export const TOOL_REGISTRY = Symbol('ToolRegistry');

/**
 * Same registry as the tool-runner's, so dispatch and execution agree on names, versions and risk:
 * the MCP servers of `NEXUS_MCP_SERVERS` are mounted here too, though only for their definitions.
 */
export const createToolRegistry = (sql: SqlExecutor): Promise<ToolRegistry> =>
  MountedToolRegistry.mount(
    createBuiltinToolRegistry({
      ...builtinToolsOptionsFromEnv(process.env),
      memory: { store: new PgVectorMemoryAdapter(sql), embedder: new LexicalHashEmbedder() },
    }),
    mcpServersFromEnv(process.env),
  );

/** The registry and the policy engine, shared by the agent-loop worker and its executor. */
export const toolCatalogProviders: Provider[] = [
  { provide: TOOL_REGISTRY, useFactory: createToolRegistry, inject: [SQL_EXECUTOR] },
  // Loaded once at start: a broken policy file stops the app from starting.
  { provide: POLICY_ENGINE, useFactory: () => loadPolicyEngine() },
];
