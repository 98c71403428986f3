// A tiny MCP server for the integration tests. Run directly, it serves over stdio;
// imported, `createEchoMcpServer()` gives a fresh server for any transport.
import process from 'node:process';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

export function createEchoMcpServer() {
  const server = new McpServer({ name: 'echo-test', version: '1.2.3' });
  server.registerTool(
    'echo',
    { description: 'Returns its text.', inputSchema: { text: z.string().max(1000) } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers.',
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } }),
  );
  server.registerTool(
    'fail',
    { description: 'Always reports an error.', inputSchema: { reason: z.string() } },
    async ({ reason }) => ({ isError: true, content: [{ type: 'text', text: `failed: ${reason}` }] }),
  );
  server.registerTool(
    'sleep',
    { description: 'Waits, ignoring cancellation.', inputSchema: { ms: z.number().int().min(0) } },
    async ({ ms }) => {
      await delay(ms);
      return { content: [{ type: 'text', text: `slept ${ms}` }] };
    },
  );
  server.registerTool('pid', { description: 'The server process id.' }, async () => ({
    content: [{ type: 'text', text: String(process.pid) }],
  }));
  server.registerTool('crash', { description: 'Exits the server process.' }, async () => {
    void delay(10).then(() => process.exit(1));
    return { content: [{ type: 'text', text: 'bye' }] };
  });
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await createEchoMcpServer().connect(new StdioServerTransport());
  // The MCP stdio shutdown: the client closes our stdin, we exit even with a `sleep` still pending.
  process.stdin.on('end', () => process.exit(0));
}
