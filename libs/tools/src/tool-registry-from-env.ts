import type { Redis } from 'ioredis';
import type { SqlExecutor } from '@nexus/event-store';
import { builtinToolsOptionsFromEnv, createBuiltinToolRegistry } from './builtin-tools';
import { mcpServersFromEnv } from './mcp/mcp-server-config';
import { MountedToolRegistry } from './mcp/mounted-tool-registry';
import { memoryFromEnv } from './memory/memory-from-env';

/**
 * The deployment's tools, configured from the environment: every built-in (memory over Qdrant or
 * pgvector, see `memoryFromEnv`) plus the tools of the MCP servers in `NEXUS_MCP_SERVERS`. The
 * command side reads their definitions to dispatch and govern calls (`definitionsOnly`: its MCP
 * connections close once the tools are listed); the tool-runner runs them — both build it the
 * same way, so they agree on names, versions and risk.
 */
export const createToolRegistryFromEnv = (
  env: NodeJS.ProcessEnv,
  sql: SqlExecutor,
  redis?: Redis,
  options: { definitionsOnly?: boolean } = {},
): Promise<MountedToolRegistry> =>
  MountedToolRegistry.mount(
    createBuiltinToolRegistry({ ...builtinToolsOptionsFromEnv(env), memory: memoryFromEnv(env, sql, redis) }),
    mcpServersFromEnv(env),
    options,
  );
