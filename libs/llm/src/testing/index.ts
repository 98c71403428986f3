export * from './openai-stub.server';
export * from './anthropic-stub.server';
