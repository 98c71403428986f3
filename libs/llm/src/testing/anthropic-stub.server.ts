import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal Messages API server: every request gets the same reply, text plus one `tool_use`
 * block, as JSON or as the SSE event sequence for `stream: true`. Enough to drive the real SDK.
 */
export class AnthropicStubServer {
  readonly requests: Array<Record<string, unknown>> = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<AnthropicStubServer> {
    const server = createServer(async (request, response) => {
      let raw = '';
      for await (const chunk of request) raw += String(chunk);
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      stub.requests.push(body);
      const model = String(body['model'] ?? 'claude-test');
      if (body['stream'] !== true) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ...message(model, 'tool_use', 9), content: [{ type: 'text', text: 'Let me check.' }, toolUse] }));
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const send = (data: { type: string; [key: string]: unknown }) => response.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
      send({ type: 'message_start', message: { ...message(model, null, 1), content: [] } });
      send({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      for (const text of ['Let ', 'me ', 'check.']) {
        send({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
      }
      send({ type: 'content_block_stop', index: 0 });
      send({ type: 'content_block_start', index: 1, content_block: { ...toolUse, input: {} } });
      for (const partial_json of ['{"path":', '"a.txt"}']) {
        send({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json } });
      }
      send({ type: 'content_block_stop', index: 1 });
      send({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 9 } });
      send({ type: 'message_stop' });
      response.end();
    });
    const stub = new AnthropicStubServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const toolUse = { type: 'tool_use', id: 'toolu_01', name: 'files_read', input: { path: 'a.txt' } };

function message(model: string, stopReason: string | null, outputTokens: number) {
  return {
    id: 'msg_stub',
    type: 'message',
    role: 'assistant',
    model,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 21, output_tokens: outputTokens, cache_creation_input_tokens: null, cache_read_input_tokens: null },
  };
}
