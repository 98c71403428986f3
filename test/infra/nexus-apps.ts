import { loadConfig } from '@nexus/config';

/** Each Nexus app by its deployment name, with the port it listens on by default. */
const defaults = loadConfig({});
export const appPorts: Readonly<Record<string, number>> = {
  'command-api': defaults.COMMAND_API_PORT,
  'query-api': defaults.QUERY_API_PORT,
  'llm-gateway': defaults.LLM_GATEWAY_PORT,
  projector: defaults.PROJECTOR_PORT,
  'tool-runner': defaults.TOOL_RUNNER_PORT,
};
