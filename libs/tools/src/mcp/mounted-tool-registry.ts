import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ToolError } from '../tool-definition';
import { ToolRegistry } from '../tool-registry';
import type { McpServerConfig } from './mcp-server-config';
import { connectMcpTools, type McpTools } from './mcp.tools';

/** A server that has not listed its tools by then is skipped, so a hung child cannot hold up start-up. */
const MOUNT_TIMEOUT_MS = 15_000;

/**
 * The built-in tools plus those of the MCP servers mounted at start. Being the registry provider
 * itself, it closes the MCP connections when the app shuts down (after the workers have stopped,
 * in `beforeApplicationShutdown`).
 */
export class MountedToolRegistry extends ToolRegistry implements OnApplicationShutdown {
  private readonly logger = new Logger('tools');
  private readonly mounts: McpTools[] = [];

  /**
   * An unreachable or broken server is logged and skipped: the other tools still work. With
   * `definitionsOnly` (the command side, which governs calls but never runs them) each server is
   * asked for its tool list and closed again, so only the tool runner keeps MCP servers running.
   */
  static async mount(
    builtins: ToolRegistry,
    servers: readonly McpServerConfig[],
    { definitionsOnly = false }: { definitionsOnly?: boolean } = {},
  ): Promise<MountedToolRegistry> {
    const registry = new MountedToolRegistry();
    for (const { name } of builtins.list()) {
      const tool = builtins.get(name);
      if (tool !== undefined) registry.register(tool);
    }
    const results = await Promise.allSettled(servers.map((server) => connectWithin(server, MOUNT_TIMEOUT_MS)));
    results.forEach((result, i) => {
      const server = servers[i]?.name ?? '?';
      if (result.status === 'rejected') {
        registry.logger.warn(`MCP server ${server} not mounted: ${(result.reason as Error).message}`);
        return;
      }
      if (definitionsOnly) {
        void result.value.close().catch(() => undefined);
        for (const { definition } of result.value.tools) registry.register({ definition, execute: () => Promise.reject(new ToolError('execution_failed', `${definition.name} runs in the tool runner`)) });
      } else {
        registry.mounts.push(result.value);
        for (const tool of result.value.tools) registry.register(tool);
      }
      registry.logger.log(`MCP server ${server} mounted: ${result.value.tools.map((t) => t.definition.name).join(', ')}`);
    });
    return registry;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.mounts.splice(0).map((mount) => mount.close()));
  }
}

function connectWithin(server: McpServerConfig, timeoutMs: number): Promise<McpTools> {
  const connecting = connectMcpTools(server);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no tool list within ${timeoutMs} ms`));
      // Too late to mount: whatever connects afterwards is closed rather than leaked.
      void connecting.then((late) => late.close(), () => undefined);
    }, timeoutMs);
    connecting.then(
      (mounted) => {
        clearTimeout(timer);
        resolve(mounted);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
