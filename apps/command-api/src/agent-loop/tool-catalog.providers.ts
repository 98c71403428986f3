import type { Provider } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { ToolCatalog } from '@nexus/domain';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { REDIS } from '@nexus/infrastructure';
import { loadPolicyEngine, POLICY_ENGINE } from '@nexus/policy';
import { createToolRegistryFromEnv, type ToolRegistry } from '@nexus/tools';

/** The tools the deployment offers; here only their definitions are read (the tool-runner runs them). */
export const TOOL_REGISTRY = Symbol('ToolRegistry');

/** The registry's tools as the agent loop's rules read them, in the registry's order. */
export const toolCatalogOf = (registry: ToolRegistry): ToolCatalog =>
  new Map(
    registry.list().map(({ name, version, description, category, risk, jsonSchema, timeoutMs }) => [
      name,
      { name, version, description, category, risk, parameters: jsonSchema, timeoutMs },
    ]),
  );

/** The registry and the policy engine, shared by the agent-loop worker and its executor. */
export const toolCatalogProviders: Provider[] = [
  {
    provide: TOOL_REGISTRY,
    // Built the same way as the tool-runner's, so dispatch and execution agree on every tool.
    useFactory: (sql: SqlExecutor, redis: Redis | undefined) => createToolRegistryFromEnv(process.env, sql, redis, { definitionsOnly: true }),
    inject: [SQL_EXECUTOR, REDIS],
  },
  // Loaded once at start: a broken policy file stops the app from starting.
  { provide: POLICY_ENGINE, useFactory: () => loadPolicyEngine() },
];
