import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolError } from '../tool-definition';
import type { McpServerConfig } from './mcp-server-config';

const CLIENT_INFO = { name: 'nexus-tool-runner', version: '1.0.0' };

/**
 * A client session with one MCP server that survives the transport closing.
 *
 * Reconnect policy, deliberately simple: when the transport closes (the child exited, or the
 * HTTP server answered 404 for our session), nothing happens until the next call, which reconnects
 * once — a failed reconnect ends that call with a retryable `unavailable`, and the call after it
 * tries again. The call that met the closed transport is not replayed (the tool may have acted):
 * it fails `unavailable`. Concurrent calls share one reconnect. After `close()` nothing reconnects.
 */
export class McpConnection {
  private current: Promise<Client> | undefined;
  private closed = false;

  private constructor(private readonly config: McpServerConfig) {}

  /** Connects now, so a misconfigured server fails at startup rather than on the first call. */
  static async open(config: McpServerConfig): Promise<McpConnection> {
    const connection = new McpConnection(config);
    await connection.client();
    return connection;
  }

  /** The live client, reconnecting once if the transport has closed since the last call. */
  async client(): Promise<Client> {
    if (this.closed) throw new ToolError('unavailable', `MCP server ${this.config.name} is closed`);
    const current = (this.current ??= this.connect());
    const client = await current;
    // The SDK drops a client's transport when it closes: that is the signal to reconnect, once.
    if (client.transport !== undefined) return client;
    if (this.closed) throw new ToolError('unavailable', `MCP server ${this.config.name} is closed`);
    if (this.current === current) this.current = this.connect();
    return this.current;
  }

  /**
   * After a failed call: a streamable HTTP server answering 404 has forgotten our session (it
   * restarted or expired it), so the client is closed and the next call reconnects. True if so.
   */
  async discardIfSessionLost(client: Client, error: unknown): Promise<boolean> {
    if (!(error instanceof StreamableHTTPError) || error.code !== 404) return false;
    await client.close().catch(() => undefined);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = await this.current?.catch(() => undefined);
    this.current = undefined;
    // A stateful HTTP server keeps our session until told otherwise; ending it is a courtesy.
    if (client?.transport instanceof StreamableHTTPClientTransport && client.transport.sessionId !== undefined) {
      await client.transport.terminateSession().catch(() => undefined);
    }
    await client?.close();
  }

  private connect(): Promise<Client> {
    const client = new Client(CLIENT_INFO);
    const attempt: Promise<Client> = client.connect(createTransport(this.config)).then(
      () => client,
      async (error: unknown) => {
        if (this.current === attempt) this.current = undefined;
        await client.close().catch(() => undefined);
        throw new ToolError('unavailable', `cannot connect to MCP server ${this.config.name}: ${(error as Error).message}`, true);
      },
    );
    return attempt;
  }
}

function createTransport(config: McpServerConfig): Transport {
  if (config.transport === 'stdio') {
    return new StdioClientTransport({ command: config.command, args: config.args ?? [], env: config.env ?? {} });
  }
  return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers ?? {} } });
}
