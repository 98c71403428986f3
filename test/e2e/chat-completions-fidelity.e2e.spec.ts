import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { maxOutputTokensOf } from '@nexus/llm';
import { OpenAiStubServer } from '../../libs/llm/src/testing/openai-stub.server';
import { keyOf } from './support/api-client';
import { startGatewayPlatform, type GatewayPlatform } from './support/gateway-platform';

const MODEL = 'stub-model';

/**
 * The gateway as a faithful OpenAI-compatible endpoint (issue 12): what the real `openai` SDK sends
 * reaches an OpenAI-compatible upstream as it was sent, and what the upstream answers reaches the
 * client as it was answered. The stub records every request it receives.
 */
describe('llm-gateway: OpenAI fidelity', () => {
  let stub: OpenAiStubServer;
  let platform: GatewayPlatform;

  beforeAll(async () => {
    stub = await OpenAiStubServer.start();
    platform = await startGatewayPlatform('chatfidelity', [{ name: 'stub', baseUrl: stub.baseURL, models: [MODEL] }]);
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    await stub?.close();
  });
  beforeEach(() => stub.reset());

  /** An SDK client as users configure it (default retries), counting the requests it makes. */
  const clientOf = async (tokens = 100_000) => {
    const sessionId = await platform.startSession(tokens);
    const sent: string[] = [];
    const client = new OpenAI({
      apiKey: keyOf('alice'),
      baseURL: `${platform.gatewayUrl}/v1`,
      defaultHeaders: { 'X-Nexus-Session-Id': sessionId },
      fetch: async (url, init) => {
        sent.push(String(url));
        return fetch(url, init);
      },
    });
    return { client, sessionId, sent };
  };
  const received = () => stub.requests.map((r) => r.body);
  const hello = { model: MODEL, messages: [{ role: 'user' as const, content: 'hello' }] };

  describe('defaults are the provider’s', () => {
    it('sends no max_tokens and no temperature when the client sent none, reserving the model’s output limit', async () => {
      const { client, sessionId } = await clientOf();
      await client.chat.completions.create(hello);
      const [body] = received();
      expect(body).not.toHaveProperty('max_tokens');
      expect(body).not.toHaveProperty('max_completion_tokens');
      expect(body).not.toHaveProperty('temperature');
      const [reserved] = (await platform.budgetEvents(sessionId)).reserved;
      expect(reserved?.amount.tokens).toBeGreaterThan(maxOutputTokensOf(MODEL));
    });

    it('sends the client’s max_tokens as it is, above the agent loop’s cap', async () => {
      const { client } = await clientOf();
      await client.chat.completions.create({ ...hello, max_tokens: 2000 });
      await client.chat.completions.create({ ...hello, max_tokens: 2000, temperature: 0.4 });
      const [first, second] = received();
      expect(first).toMatchObject({ max_tokens: 2000 });
      expect(second).toMatchObject({ max_tokens: 2000, temperature: 0.4 });
    });
  });
});
