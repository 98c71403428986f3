import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { runTool } from '../run-tool';
import { ToolError } from '../tool-definition';
import { ToolRegistry } from '../tool-registry';
import { connectMcpTools, type McpTools } from './mcp.tools';
import { createEchoMcpServer } from './testing/echo-mcp-server.mjs';

const context = { sessionId: 's1', tenantId: 't1', userId: 'u1', toolCallId: 'c1' };
const TOKEN = 'Bearer test-token';

/** Stateless streamable HTTP on 127.0.0.1: a fresh MCP server and transport per request, behind a bearer check. */
function startHttpMcpServer(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.headers.authorization !== TOKEN) {
      res.writeHead(401).end();
      return;
    }
    const mcp = createEchoMcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close().then(() => mcp.close()));
    mcp.connect(transport).then(() => transport.handleRequest(req, res)).catch(() => res.writeHead(500).end());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Stateful streamable HTTP: one server per session, and a way to forget them all, as a restart would. */
async function startStatefulHttpMcpServer() {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const server = createServer((req, res) => {
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    if (known) {
      void known.handleRequest(req, res);
      return;
    }
    // What the spec asks of a server that does not know the session: 404, and the client starts over.
    if (id !== undefined) {
      res.writeHead(404).end();
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
    });
    createEchoMcpServer().connect(transport).then(() => transport.handleRequest(req, res)).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  const forgetSessions = () => {
    for (const transport of sessions.values()) void transport.close();
    sessions.clear();
  };
  const stop = () => {
    forgetSessions();
    return new Promise((resolve) => server.close(resolve));
  };
  return { url, forgetSessions, stop, sessionCount: () => sessions.size };
}

describe('MCP tools over stateful streamable HTTP', () => {
  it('reconnects on the call after the server lost the session', async () => {
    const http = await startStatefulHttpMcpServer();
    const mcp = await connectMcpTools({ name: 'remote', transport: 'http', url: http.url });
    const registry = new ToolRegistry();
    for (const tool of mcp.tools) registry.register(tool);
    const run = (tool: string, input: unknown) => runTool(registry, `mcp__remote__${tool}`, input, context);
    try {
      expect((await run('echo', { text: 'one' })).output).toEqual({ text: 'one' });
      http.forgetSessions();
      const error = await run('echo', { text: 'lost' }).catch((e: unknown) => e as ToolError);
      expect(error).toMatchObject({ code: 'unavailable', retryable: true });
      expect((await run('echo', { text: 'two' })).output).toEqual({ text: 'two' });
      expect(http.sessionCount()).toBe(1);
    } finally {
      await mcp.close();
      await http.stop();
    }
  });
});

describe('MCP tools over streamable HTTP', () => {
  let http: Server;
  let url: string;
  let mcp: McpTools;
  const registry = new ToolRegistry();
  const run = (tool: string, input: unknown) => runTool(registry, `mcp__remote__${tool}`, input, context);

  beforeAll(async () => {
    http = await startHttpMcpServer();
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
    mcp = await connectMcpTools({ name: 'remote', transport: 'http', url, headers: { Authorization: TOKEN } });
    for (const tool of mcp.tools) registry.register(tool);
  });
  afterAll(async () => {
    await mcp.close();
    await new Promise((resolve) => http.close(resolve));
  });

  it('lists the tools with their schemas', () => {
    expect(registry.get('mcp__remote__echo')?.definition).toMatchObject({
      version: '1.2.3',
      category: 'mcp',
      risk: 'high',
      jsonSchema: { type: 'object', properties: { text: { type: 'string', maxLength: 1000 } }, required: ['text'] },
    });
  });

  it('runs calls end to end', async () => {
    expect((await run('echo', { text: 'over http' })).output).toEqual({ text: 'over http' });
    expect((await run('add', { a: 1, b: 2 })).output).toEqual({ text: '3', structuredContent: { sum: 3 } });
  });

  it('maps an isError result to execution_failed', async () => {
    const error = await run('fail', { reason: 'remote' }).catch((e: unknown) => e as ToolError);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).code).toBe('execution_failed');
  });

  it('refuses to mount without the configured headers', async () => {
    const error = await connectMcpTools({ name: 'remote', transport: 'http', url }).catch((e: unknown) => e as ToolError);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).code).toBe('unavailable');
  });
});
