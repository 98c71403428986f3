import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/** A fresh echo test server (echo, add, fail, sleep, pid, crash), for any transport. */
export declare function createEchoMcpServer(): McpServer;
