import type { Provider } from '@nestjs/common';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import {
  builtinToolsOptionsFromEnv,
  createBuiltinToolRegistry,
  LexicalHashEmbedder,
  mcpServersFromEnv,
  MountedToolRegistry,
  PgVectorMemoryAdapter,
} from '@nexus/tools';

export const TOOL_REGISTRY = Symbol('ToolRegistry');

/**
 * Every built-in tool, configured from the environment; memory over pgvector in the same database
 * (a PostgreSQL without pgvector makes the memory tools fail `unavailable`, nothing else); plus the
 * tools of the MCP servers in `NEXUS_MCP_SERVERS`, which this process calls.
 */
export const toolRegistryProvider: Provider = {
  provide: TOOL_REGISTRY,
  useFactory: (sql: SqlExecutor) =>
    MountedToolRegistry.mount(
      createBuiltinToolRegistry({
        ...builtinToolsOptionsFromEnv(process.env),
        memory: { store: new PgVectorMemoryAdapter(sql), embedder: new LexicalHashEmbedder() },
      }),
      mcpServersFromEnv(process.env),
    ),
  inject: [SQL_EXECUTOR],
};
