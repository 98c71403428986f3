import { z } from 'zod';

/** Letters, digits, `_` and `-`: the server name becomes the middle part of every tool name. */
const serverName = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and - only (at most 32)');

const stdioServer = z.object({
  name: serverName,
  transport: z.literal('stdio'),
  command: z.string().min(1),
  args: z.array(z.string()).optional(),
  /** Added to the SDK's safe default environment (HOME, PATH, …); the rest of ours is not inherited. */
  env: z.record(z.string(), z.string()).optional(),
});

const httpServer = z.object({
  name: serverName,
  transport: z.literal('http'),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).optional(),
});

const mcpServerConfig = z.discriminatedUnion('transport', [stdioServer, httpServer]);

/**
 * One MCP server to mount: a command spawned and spoken to over stdio, or a streamable HTTP
 * endpoint. The address comes from the operator, not the model, so it bypasses the
 * `http_request` address policy.
 */
export type McpServerConfig = z.infer<typeof mcpServerConfig>;

/**
 * The MCP servers configured in `NEXUS_MCP_SERVERS`: a JSON list such as
 * `[{"name":"github","transport":"stdio","command":"npx","args":["-y","@modelcontextprotocol/server-github"],"env":{"GITHUB_TOKEN":"…"}},
 *   {"name":"search","transport":"http","url":"https://mcp.example.com/mcp","headers":{"Authorization":"Bearer …"}}]`.
 * Unset or empty: none. Malformed JSON, an invalid entry or a repeated name throws at startup
 * rather than silently mounting fewer tools.
 */
export function mcpServersFromEnv(env: Record<string, string | undefined>): McpServerConfig[] {
  const raw = env['NEXUS_MCP_SERVERS']?.trim();
  if (!raw) return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new Error(`NEXUS_MCP_SERVERS is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = z.array(mcpServerConfig).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(list)'}: ${i.message}`);
    throw new Error(`NEXUS_MCP_SERVERS is invalid: ${issues.join('; ')}`);
  }
  const names = parsed.data.map((s) => s.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new Error(`NEXUS_MCP_SERVERS names server ${repeated} twice`);
  return parsed.data;
}
