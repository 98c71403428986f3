import type { Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { REDIS } from '@nexus/infrastructure';
import { createToolRegistryFromEnv } from '@nexus/tools';

export const TOOL_REGISTRY = Symbol('ToolRegistry');

/** The tools this process runs: built-ins and mounted MCP tools, configured from the environment. */
export const toolRegistryProvider: Provider = {
  provide: TOOL_REGISTRY,
  useFactory: (sql: SqlExecutor, redis: Redis | undefined) => createToolRegistryFromEnv(process.env, sql, redis),
  inject: [SQL_EXECUTOR, REDIS],
};
