import { z } from 'zod';

/*
 * OpenAI's Responses request, as far as Nexus serves it. Unlike the chat completions body, this one
 * is not forwarded as it came: it is translated to a chat completions request, so every field must
 * be one Nexus knows how to translate. Unknown fields are refused (400 `validation_failed`, each
 * listed), and fields OpenAI defines that a chat completions provider cannot honour are refused by
 * name (400 `unsupported_parameter`, see `responses.mapping.ts`) — none is dropped silently.
 * Objects inside stay loose where OpenAI's own clients add members Nexus does not read (an output
 * item's `id`, `status`) and where content parts pass to the provider as they are.
 */

const inputText = z.looseObject({ type: z.literal('input_text'), text: z.string() });
const outputText = z.looseObject({ type: z.literal('output_text'), text: z.string() });
const refusal = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });
const inputImage = z.looseObject({
  type: z.literal('input_image'),
  image_url: z.string().max(20_000_000).nullish(),
  file_id: z.string().nullish(),
  detail: z.string().max(20).nullish(),
});
const inputAudio = z.looseObject({ type: z.literal('input_audio'), input_audio: z.looseObject({ data: z.string(), format: z.string() }) });
const inputFile = z.looseObject({
  type: z.literal('input_file'),
  file_data: z.string().optional(),
  file_id: z.string().nullish(),
  file_url: z.string().optional(),
  filename: z.string().optional(),
});
const contentPart = z.discriminatedUnion('type', [inputText, outputText, refusal, inputImage, inputAudio, inputFile]);
export type ResponsesContentPart = z.infer<typeof contentPart>;

export const responsesMessageSchema = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(contentPart).max(1000)]),
});
const functionCall = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  arguments: z.string().max(1_000_000),
});
const functionCallOutput = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1).max(200),
  output: z.union([z.string(), z.array(contentPart).max(1000)]),
});
/** Any other item type (reasoning, item_reference, built-in tool calls): refused by name in the mapping. */
const otherItem = z.looseObject({ type: z.string().min(1).max(100) });

const item = z.union([responsesMessageSchema, functionCall, functionCallOutput, otherItem]);
export type ResponsesInputItem = z.infer<typeof item>;

const functionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string().min(1).max(200),
  description: z.string().max(10_000).nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
const otherTool = z.looseObject({ type: z.string().min(1).max(100) });

const toolChoice = z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string().min(1).max(100), name: z.string().max(200).optional() })]);

const textFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().min(1).max(200),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().max(10_000).optional(),
    strict: z.boolean().nullish(),
  }),
]);

export const responsesRequestSchema = z.strictObject({
  model: z.string().min(1).max(200),
  input: z.union([z.string(), z.array(item).max(10_000)]),
  instructions: z.string().nullish(),
  tools: z.array(z.union([functionTool, otherTool])).max(128).optional(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.int().positive().max(1_000_000).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_logprobs: z.int().min(0).max(20).nullish(),
  text: z.strictObject({ format: textFormat.optional(), verbosity: z.enum(['low', 'medium', 'high']).nullish() }).optional(),
  reasoning: z.looseObject({ effort: z.string().max(20).nullish() }).nullish(),
  include: z.array(z.string().max(100)).max(20).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_obfuscation: z.boolean().optional() }).nullish(),
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  user: z.string().max(500).optional(),
  safety_identifier: z.string().max(500).nullish(),
  prompt_cache_key: z.string().max(500).nullish(),
  prompt_cache_retention: z.enum(['in_memory', '24h']).nullish(),
  service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority']).nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  // OpenAI's, refused by name with the reason when set (see `unsupportedFields`).
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
  background: z.boolean().nullish(),
  prompt: z.unknown().optional(),
  context_management: z.unknown().optional(),
});
export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
