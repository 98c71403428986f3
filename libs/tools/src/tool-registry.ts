import type { Tool, ToolDefinition } from './tool-definition';

/** What the model is shown for one tool (OpenAI-style function tool). */
export interface ModelToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
}

/** The tools a process can run, by name. A name is registered once. */
export class ToolRegistry {
  private readonly tools = new Map<string, Tool>();

  register(tool: Tool): this {
    if (this.tools.has(tool.definition.name)) {
      throw new Error(`tool ${tool.definition.name} is already registered`);
    }
    this.tools.set(tool.definition.name, tool);
    return this;
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  list(): ToolDefinition[] {
    return [...this.tools.values()].map((t) => t.definition);
  }

  /** The definitions to offer the model: all tools, or only those named (unknown names ignored). */
  definitionsForModel(names?: readonly string[]): ModelToolDefinition[] {
    const wanted = names === undefined ? undefined : new Set(names);
    return this.list()
      .filter((d) => wanted === undefined || wanted.has(d.name))
      .map((d) => ({ name: d.name, description: d.description, parameters: d.jsonSchema }));
  }
}
