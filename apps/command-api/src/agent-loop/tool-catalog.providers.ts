import type { Provider } from '@nestjs/common';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { loadPolicyEngine, POLICY_ENGINE } from '@nexus/policy';
import {
  builtinToolsOptionsFromEnv,
  createBuiltinToolRegistry,
  LexicalHashEmbedder,
  PgVectorMemoryAdapter,
  type ToolRegistry,
} from '@nexus/tools';

/** The tools the deployment offers; here only their definitions are read (the tool-runner runs them). */
export const TOOL_REGISTRY = Symbol('ToolRegistry');

/** Same registry as the tool-runner's, so dispatch and execution agree on names, versions and risk. */
export const createToolRegistry = (sql: SqlExecutor): ToolRegistry =>
  createBuiltinToolRegistry({
    ...builtinToolsOptionsFromEnv(process.env),
    memory: { store: new PgVectorMemoryAdapter(sql), embedder: new LexicalHashEmbedder() },
  });

/** The registry and the policy engine, shared by the agent-loop worker and its executor. */
export const toolCatalogProviders: Provider[] = [
  { provide: TOOL_REGISTRY, useFactory: createToolRegistry, inject: [SQL_EXECUTOR] },
  // Loaded once at start: a broken policy file stops the app from starting.
  { provide: POLICY_ENGINE, useFactory: () => loadPolicyEngine() },
];
