import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult, type Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { NO_RETRY, ToolError, type JsonValue, type Tool, type ToolCategory, type ToolRisk } from '../tool-definition';
import { McpConnection } from './mcp-connection';
import { jsonSchemaInput } from './json-schema-input';
import type { McpServerConfig } from './mcp-server-config';

export interface McpToolsOptions {
  readonly category?: ToolCategory;
  /** `high` unless set: an unknown server's tool is risky, and the default policy sends it to approval. */
  readonly risk?: ToolRisk;
  /** Per-call deadline, enforced by `runTool` from outside. Default 30 s. */
  readonly timeoutMs?: number;
}

export interface McpTools {
  readonly tools: Tool[];
  /** Ends the session: the stdio child is terminated; later calls fail `unavailable`. */
  close(): Promise<void>;
}

/** Longest name the model APIs accept. */
const MAX_NAME_LENGTH = 64;

/**
 * Connects to one MCP server and wraps each of its tools as a Nexus tool named
 * `mcp__<server>__<tool>`. Server-side hints (`readOnlyHint`, …) are not trusted for the risk: the
 * operator sets it. Tools listed later (`tools/list_changed`) are not picked up until the next
 * `connectMcpTools`.
 */
export async function connectMcpTools(config: McpServerConfig, options: McpToolsOptions = {}): Promise<McpTools> {
  const connection = await McpConnection.open(config);
  try {
    const client = await connection.client();
    const listed = await listAllTools(client);
    const version = client.getServerVersion()?.version ?? '0.0.0';
    const names = new Set<string>();
    const tools = listed.map((mcpTool) => {
      const name = mcpToolName(config.name, mcpTool.name);
      if (names.has(name)) throw new Error(`MCP server ${config.name}: two tools are both named ${name} once sanitized`);
      names.add(name);
      return wrapTool(connection, mcpTool, { name, version, serverName: config.name, ...options });
    });
    return { tools, close: () => connection.close() };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

async function listAllTools(client: Awaited<ReturnType<McpConnection['client']>>): Promise<McpTool[]> {
  const tools: McpTool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

/** `mcp__<server>__<tool>`, anything but letters, digits, `_` and `-` replaced by `_`, cut at 64 characters. */
export function mcpToolName(server: string, tool: string): string {
  // OpenAI and Anthropic accept only letters, digits, `_` and `-` in function names: `__` separates.
  const clean = (part: string) => part.replace(/[^A-Za-z0-9_-]/g, '_');
  return `mcp__${clean(server)}__${clean(tool)}`.slice(0, MAX_NAME_LENGTH);
}

interface WrapOptions extends McpToolsOptions {
  readonly name: string;
  readonly version: string;
  readonly serverName: string;
}

function wrapTool(connection: McpConnection, mcpTool: McpTool, options: WrapOptions): Tool {
  const { $schema: _ignored, ...jsonSchema } = mcpTool.inputSchema as Record<string, unknown>;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    definition: {
      name: options.name,
      version: options.version,
      description: mcpTool.description ?? mcpTool.title ?? mcpTool.name,
      category: options.category ?? 'mcp',
      risk: options.risk ?? 'high',
      inputSchema: jsonSchemaInput(jsonSchema) as z.ZodType,
      jsonSchema,
      timeoutMs,
      retry: NO_RETRY,
      permissions: [`mcp:${options.serverName}`],
    },
    execute: async (input, context) => {
      const client = await connection.client();
      try {
        const result = (await client.callTool(
          { name: mcpTool.name, arguments: input as Record<string, unknown> },
          undefined,
          // The SDK's own timeout only as a backstop: runTool's deadline fires first and aborts.
          { signal: context.signal, timeout: timeoutMs + 5_000 },
        )) as CallToolResult;
        return { output: toOutput(result, options.name) };
      } catch (error) {
        if (await connection.discardIfSessionLost(client, error)) {
          throw new ToolError('unavailable', `${options.name}: the MCP server lost the session`, true);
        }
        throw toToolError(error, options.name);
      }
    },
  };
}

/** Text parts joined into `text`; `structuredContent` kept; other parts (images, resources) kept as they are. */
function toOutput(result: CallToolResult, name: string): JsonValue {
  const content = result.content ?? [];
  const text = content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
  if (result.isError) throw new ToolError('execution_failed', text || `${name} reported an error`);
  const others = content.filter((part) => part.type !== 'text');
  return {
    text,
    ...(result.structuredContent === undefined ? {} : { structuredContent: result.structuredContent as JsonValue }),
    // Parts arrive as JSON from the server and go back out as JSON.
    ...(others.length === 0 ? {} : { content: others as JsonValue[] }),
  };
}

function toToolError(error: unknown, name: string): ToolError {
  if (error instanceof ToolError) return error;
  if (error instanceof McpError) {
    if (error.code === ErrorCode.ConnectionClosed) return new ToolError('unavailable', `${name}: ${error.message}`, true);
    if (error.code === ErrorCode.RequestTimeout) return new ToolError('timeout', `${name}: ${error.message}`, true);
    if (error.code === ErrorCode.InvalidParams) return new ToolError('invalid_input', `${name}: ${error.message}`);
    return new ToolError('upstream_error', `${name}: ${error.message}`);
  }
  if (error instanceof StreamableHTTPError) {
    return new ToolError('upstream_error', `${name}: HTTP ${error.code ?? '?'} ${error.message}`, (error.code ?? 500) >= 500);
  }
  if (error instanceof TypeError && error.message === 'fetch failed') return new ToolError('unavailable', `${name}: server unreachable`, true);
  // The SDK's words when the transport closed between our check and the send.
  if (error instanceof Error && error.message === 'Not connected') return new ToolError('unavailable', `${name}: not connected`, true);
  return new ToolError('execution_failed', `${name}: ${error instanceof Error ? error.message : String(error)}`);
}
