import type { ImageBlockParam, TextBlockParam, ToolChoice } from '@anthropic-ai/sdk/resources/messages';
import { LlmProviderRejectedError } from '../resilience/llm-errors';

/** What an OpenAI request's own fields become in a Messages API request. */
export interface AnthropicRequestFields {
  readonly stop_sequences?: string[];
  /** The API takes it though this SDK's types no longer list it. */
  readonly top_p?: number;
  readonly tool_choice?: ToolChoice;
  readonly metadata?: { user_id: string };
  /** Content blocks of the user messages that carry images, by message index. */
  readonly userBlocks: ReadonlyMap<number, ReadonlyArray<TextBlockParam | ImageBlockParam>>;
}

type Body = Readonly<Record<string, unknown>>;

/** Read by the gateway or the contract mapping (messages, tools, max tokens, temperature), or set by the provider. */
const READ_ELSEWHERE = new Set(['model', 'messages', 'tools', 'max_tokens', 'max_completion_tokens', 'temperature', 'stream', 'stream_options']);

/** Mapped below to their Messages API equivalents. */
const MAPPED = new Set(['stop', 'top_p', 'tool_choice', 'parallel_tool_calls', 'user']);

/**
 * Fields the Messages API has no equivalent for, accepted only at the value that asks for nothing
 * (OpenAI's default): a client that sends `logprobs: false` or `n: 1` is honoured either way.
 */
const HARMLESS: Record<string, (value: unknown) => boolean> = {
  n: (value) => value === 1,
  logprobs: (value) => value === false,
  store: (value) => value === false,
  frequency_penalty: (value) => value === 0,
  presence_penalty: (value) => value === 0,
  logit_bias: (value) => isObject(value) && Object.keys(value).length === 0,
  metadata: (value) => isObject(value) && Object.keys(value).length === 0,
  service_tier: (value) => value === 'auto' || value === 'default',
  response_format: (value) => isObject(value) && value['type'] === 'text',
};

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const refuse = (model: string, provider: string, param: string, why: string): LlmProviderRejectedError =>
  new LlmProviderRejectedError(model, provider, 400, {
    message: `${param} ${why} with model ${model} (served through the Anthropic Messages API).`,
    type: 'invalid_request_error',
    param,
    code: 'unsupported_parameter',
  });

function toolChoiceOf(body: Body, refused: (param: string, why: string) => Error): ToolChoice | undefined {
  const choice = body['tool_choice'];
  const parallel = body['parallel_tool_calls'];
  const single = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined || choice === null) return parallel === false ? { type: 'auto', ...single } : undefined;
  if (choice === 'auto') return { type: 'auto', ...single };
  if (choice === 'required') return { type: 'any', ...single };
  if (choice === 'none') return { type: 'none' };
  const name = isObject(choice) && isObject(choice['function']) ? choice['function']['name'] : undefined;
  if (typeof name === 'string') return { type: 'tool', name, ...single };
  throw refused('tool_choice', 'of this form is not supported');
}

type Refused = (param: string, why: string) => Error;

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/** An `image_url` part as an image block: a data URL as base64, any other URL by reference. */
function imageBlock(part: Record<string, unknown>, param: string, refused: Refused): ImageBlockParam {
  const image = isObject(part['image_url']) ? part['image_url'] : {};
  const url = image['url'];
  if (typeof url !== 'string') throw refused(`${param}.image_url.url`, 'is missing');
  // Anthropic picks the resolution itself: a client asking for one would not get it.
  if (image['detail'] !== undefined && image['detail'] !== 'auto') throw refused(`${param}.image_url.detail`, 'has no equivalent');
  const data = DATA_URL.exec(url);
  if (data === null) return { type: 'image', source: { type: 'url', url } };
  const mediaType = IMAGE_TYPES.find((type) => type === data[1]);
  if (mediaType === undefined) throw refused(`${param}.image_url.url`, `of type ${data[1]} is not supported`);
  return { type: 'image', source: { type: 'base64', media_type: mediaType, data: data[2] ?? '' } };
}

/**
 * User messages whose content has parts other than text, as Messages API blocks in their order,
 * by message index (the index of the contract message made from it). Images map; audio and files
 * have no equivalent here.
 */
function userBlocks(body: Body, refused: Refused): Map<number, Array<TextBlockParam | ImageBlockParam>> {
  const blocks = new Map<number, Array<TextBlockParam | ImageBlockParam>>();
  const messages = Array.isArray(body['messages']) ? (body['messages'] as unknown[]) : [];
  messages.forEach((message, index) => {
    const content = isObject(message) ? message['content'] : undefined;
    if (!Array.isArray(content) || content.every((part) => isObject(part) && part['type'] === 'text')) return;
    if (!isObject(message) || message['role'] !== 'user') throw refused(`messages[${index}].content`, 'with parts other than text is supported in user messages only');
    blocks.set(
      index,
      content.map((part, p): TextBlockParam | ImageBlockParam => {
        const param = `messages[${index}].content[${p}]`;
        if (isObject(part) && part['type'] === 'text') return { type: 'text', text: String(part['text']) };
        if (isObject(part) && part['type'] === 'image_url') return imageBlock(part, param, refused);
        throw refused(param, `of type ${isObject(part) ? String(part['type']) : typeof part} has no equivalent`);
      }),
    );
  });
  return blocks;
}

/**
 * An OpenAI client's request fields as Messages API fields: `stop` → `stop_sequences`, `top_p`,
 * `tool_choice` (`required` → `any`, a named function → `tool`), `parallel_tool_calls: false` →
 * `disable_parallel_tool_use`, `user` → `metadata.user_id`, image parts → image blocks. A field
 * that cannot be honoured — a seed, penalties, logprobs, structured output, strict tools, audio parts, any field not
 * known here — throws a 400 naming it rather than being dropped: the client asked for something
 * this provider would silently not do.
 */
export function anthropicRequestFields(body: Body, model: string, provider: string): AnthropicRequestFields {
  const refused = (param: string, why: string) => refuse(model, provider, param, why);
  for (const [field, value] of Object.entries(body)) {
    if (value === undefined || value === null || READ_ELSEWHERE.has(field) || MAPPED.has(field)) continue;
    const harmless = HARMLESS[field];
    if (harmless === undefined || !harmless(value)) throw refused(field, 'has no equivalent');
  }
  const blocks = userBlocks(body, refused);
  const tools = Array.isArray(body['tools']) ? (body['tools'] as unknown[]) : [];
  const strict = tools.findIndex((tool) => isObject(tool) && isObject(tool['function']) && tool['function']['strict'] === true);
  if (strict >= 0) throw refused(`tools[${strict}].function.strict`, 'has no equivalent');
  const stop = body['stop'];
  const user = body['user'];
  const toolChoice = toolChoiceOf(body, refused);
  return {
    ...(typeof stop === 'string' ? { stop_sequences: [stop] } : Array.isArray(stop) ? { stop_sequences: stop.map(String) } : {}),
    ...(typeof body['top_p'] === 'number' ? { top_p: body['top_p'] } : {}),
    ...(toolChoice === undefined ? {} : { tool_choice: toolChoice }),
    ...(typeof user === 'string' && user !== '' ? { metadata: { user_id: user } } : {}),
    userBlocks: blocks,
  };
}
