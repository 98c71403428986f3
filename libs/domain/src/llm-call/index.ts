export * from './llm-call.worst-case';
