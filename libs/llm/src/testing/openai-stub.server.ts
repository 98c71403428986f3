import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer of the stub, consumed by one request. */
export type StubStep =
  | {
      readonly type: 'success';
      readonly content?: string;
      readonly toolCalls?: ReadonlyArray<{ id: string; name: string; arguments: string }>;
      readonly usage?: { prompt_tokens: number; completion_tokens: number };
      /** Held back this long before answering (for timeouts). */
      readonly delayMs?: number;
      /** When streaming, the pause between words (a model that writes while a client watches). */
      readonly wordDelayMs?: number;
      /** Members added to the JSON answer (`system_fingerprint`, …) and to its choice (`logprobs`, …). */
      readonly completionExtras?: Record<string, unknown>;
      readonly choiceExtras?: Record<string, unknown>;
    }
  | {
      readonly type: 'error';
      readonly status: number;
      readonly headers?: Record<string, string>;
      readonly message?: string;
      /** OpenAI's error `code` and `param`, e.g. `context_length_exceeded`; `type` is `invalid_request_error` for 4xx. */
      readonly code?: string;
      readonly param?: string;
    };

export interface StubRequest {
  readonly receivedAt: number;
  readonly body: Record<string, unknown>;
}

/**
 * A real Chat Completions server on a loopback port, answering from a script: JSON for plain
 * requests, SSE chunks (with a final usage chunk) for `stream: true`, errors with any status and
 * headers, delays. When the script runs out, `otherwise` answers. `…/embeddings` answers fixed
 * vectors (after any scripted error).
 */
export class OpenAiStubServer {
  readonly requests: StubRequest[] = [];
  otherwise: StubStep = { type: 'success', content: 'stub says hello' };
  private readonly steps: StubStep[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OpenAiStubServer> {
    const server = createServer((request, response) => void stub.handle(request, response));
    const stub = new OpenAiStubServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  script(...steps: StubStep[]): this {
    this.steps.push(...steps);
    return this;
  }

  /** Forgets the script, the recorded requests and any `otherwise` set by a test. */
  reset(): void {
    this.steps.length = 0;
    this.requests.length = 0;
    this.otherwise = { type: 'success', content: 'stub says hello' };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of request) raw += String(chunk);
    const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
    this.requests.push({ receivedAt: Date.now(), body });
    const step = this.steps.shift() ?? this.otherwise;
    if (step.type === 'error') {
      response.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
      const type = step.status < 500 ? 'invalid_request_error' : 'server_error';
      const error = { message: step.message ?? `stub error ${step.status}`, type, param: step.param ?? null, code: step.code ?? null };
      response.end(JSON.stringify({ error }));
      return;
    }
    if (step.delayMs) {
      const waited = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), step.delayMs);
        response.once('close', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (!waited) return;
    }
    const model = typeof body['model'] === 'string' ? body['model'] : 'stub-model';
    if (request.url?.endsWith('/embeddings')) return this.embeddings(response, model, body);
    if (body['stream'] === true) await this.streamSuccess(response, model, step);
    else this.jsonSuccess(response, model, step);
  }

  /** Input i embeds as `[i + 1, 0.25, -0.5, 0, …]` (`dimensions` long, 3 by default), as floats or base64. */
  private embeddings(response: ServerResponse, model: string, body: Record<string, unknown>): void {
    const input = body['input'];
    const count = Array.isArray(input) && input.some((item) => typeof item !== 'number') ? input.length : 1;
    const dimensions = typeof body['dimensions'] === 'number' ? body['dimensions'] : 3;
    const vectorOf = (index: number) => Array.from({ length: dimensions }, (_, d) => [index + 1, 0.25, -0.5][d] ?? 0);
    const encode = (vector: number[]) =>
      body['encoding_format'] === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    const data = Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding: encode(vectorOf(index)) }));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: 5 * count, total_tokens: 5 * count } }));
  }

  private jsonSuccess(response: ServerResponse, model: string, step: Extract<StubStep, { type: 'success' }>): void {
    const toolCalls = step.toolCalls?.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    const usage = step.usage ?? { prompt_tokens: 11, completion_tokens: 7 };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        id: 'chatcmpl-stub',
        object: 'chat.completion',
        created: 1_700_000_000,
        model,
        ...step.completionExtras,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: step.content ?? null, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
            finish_reason: toolCalls ? 'tool_calls' : 'stop',
            logprobs: null,
            ...step.choiceExtras,
          },
        ],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      }),
    );
  }

  private async streamSuccess(response: ServerResponse, model: string, step: Extract<StubStep, { type: 'success' }>): Promise<void> {
    const base = { id: 'chatcmpl-stub', object: 'chat.completion.chunk', created: 1_700_000_000, model };
    const send = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const words = (step.content ?? '').match(/\s*\S+\s*/g) ?? [];
    for (const [i, word] of words.entries()) {
      if (i > 0 && step.wordDelayMs) await new Promise((resolve) => setTimeout(resolve, step.wordDelayMs));
      send({ ...base, choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: word } : { content: word }, finish_reason: null }] });
    }
    step.toolCalls?.forEach((call, index) => {
      const half = Math.ceil(call.arguments.length / 2);
      send({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments.slice(0, half) } }] }, finish_reason: null }] });
      send({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] }, finish_reason: null }] });
    });
    send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: step.toolCalls ? 'tool_calls' : 'stop' }] });
    const usage = step.usage ?? { prompt_tokens: 11, completion_tokens: words.length };
    send({ ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
    response.end('data: [DONE]\n\n');
  }
}
