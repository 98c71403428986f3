import { ZodError } from 'zod';
import { ProblemException, validationProblem } from '@nexus/http';
import { responsesMessageSchema, type ResponsesContentPart, type ResponsesInputItem, type ResponsesRequest } from './responses.request.dto';

/**
 * A field OpenAI defines that a chat completions provider cannot honour: refused with OpenAI's own
 * code, naming the field, rather than dropped.
 */
export function unsupported(param: string, message: string): ProblemException {
  return new ProblemException(400, 'unsupported_parameter', 'Unsupported parameter', message, {
    errors: [{ field: param, message }],
    error: { message, type: 'invalid_request_error', param, code: 'unsupported_parameter' },
  });
}

const notStored = 'Nexus does not store responses or conversations: send the whole conversation in `input`, as the Agents SDK does by default.';

/** Fields refused whenever they are set, and why. */
const unsupportedFields: ReadonlyArray<[keyof ResponsesRequest, string]> = [
  ['previous_response_id', notStored],
  ['conversation', notStored],
  ['prompt', 'Stored prompt templates are OpenAI’s; send `instructions` and `input` instead.'],
  ['context_management', 'Server-side context compaction is OpenAI’s; Nexus forwards the conversation as sent.'],
];

/** `include` values with a chat completions equivalent; the rest name outputs Nexus cannot produce. */
const includable = new Set(['message.output_text.logprobs']);

type ChatPart = Record<string, unknown>;
type ChatMessage = Record<string, unknown> & { role: string };

/** A content part as chat completions spells it: text, image_url, input_audio and file. */
function chatPart(part: ResponsesContentPart, path: string): ChatPart {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: part.text };
    case 'refusal':
      return { type: 'refusal', refusal: part.refusal };
    case 'input_audio':
      return { type: 'input_audio', input_audio: part.input_audio };
    case 'input_image': {
      if (!part.image_url) throw unsupported(`${path}.file_id`, 'An image goes to a chat completions provider by `image_url` (a URL or a data URL), not by file id.');
      return { type: 'image_url', image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) } };
    }
    case 'input_file': {
      if (part.file_url !== undefined) throw unsupported(`${path}.file_url`, 'A file goes to a chat completions provider as `file_data` or `file_id`, not by URL.');
      const { file_data, file_id, filename } = part;
      return { type: 'file', file: { ...(file_data === undefined ? {} : { file_data }), ...(file_id ? { file_id } : {}), ...(filename === undefined ? {} : { filename }) } };
    }
  }
}

const chatContent = (content: string | ResponsesContentPart[], path: string) =>
  typeof content === 'string' ? content : content.map((part, index) => chatPart(part, `${path}.${index}`));

/** Input items → chat messages: consecutive function calls join the assistant turn before them. */
function chatMessages(items: readonly ResponsesInputItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  items.forEach((item, index) => {
    const path = `input.${index}`;
    if (item.type === undefined || item.type === 'message') {
      // A `message` item that is not a valid message (an unknown part, no role) fell to the catch-all item.
      const parsed = responsesMessageSchema.safeParse(item);
      if (!parsed.success) throw validationProblem(new ZodError(parsed.error.issues.map((issue) => ({ ...issue, path: ['input', index, ...issue.path] }))));
      const { role, content } = parsed.data;
      messages.push({ role, content: chatContent(content, `${path}.content`) });
    } else if (item.type === 'function_call') {
      const call = item as Extract<ResponsesInputItem, { type: 'function_call' }>;
      const toolCall = { id: call.call_id, type: 'function', function: { name: call.name, arguments: call.arguments } };
      const last = messages.at(-1);
      if (last?.role === 'assistant') last['tool_calls'] = [...((last['tool_calls'] as unknown[] | undefined) ?? []), toolCall];
      else messages.push({ role: 'assistant', content: null, tool_calls: [toolCall] });
    } else if (item.type === 'function_call_output') {
      const output = item as Extract<ResponsesInputItem, { type: 'function_call_output' }>;
      messages.push({ role: 'tool', tool_call_id: output.call_id, content: chatContent(output.output, `${path}.output`) });
    } else {
      const reason =
        item.type === 'item_reference' ? notStored : `A \`${item.type}\` item has no chat completions equivalent; only messages, function calls and their outputs do.`;
      throw unsupported(`${path}.type`, reason);
    }
  });
  return messages;
}

function chatTools(request: ResponsesRequest): Record<string, unknown> {
  const tools = (request.tools ?? []).map((tool, index) => {
    if (tool.type !== 'function') throw unsupported(`tools.${index}.type`, `Built-in \`${tool.type}\` tools are OpenAI’s; Nexus serves function tools.`);
    const { name, description, parameters, strict } = tool as Extract<typeof tool, { name: string }>;
    const definition = { name, ...(description == null ? {} : { description }), ...(parameters == null ? {} : { parameters }), ...(strict == null ? {} : { strict }) };
    return { type: 'function', function: definition };
  });
  const choice = request.tool_choice;
  let toolChoice: unknown = choice;
  if (choice !== null && typeof choice === 'object') {
    if (choice.type !== 'function' || choice.name === undefined) throw unsupported('tool_choice', `A \`${choice.type}\` tool choice has no chat completions equivalent; name a function or say none, auto or required.`);
    toolChoice = { type: 'function', function: { name: choice.name } };
  }
  return {
    ...(tools.length > 0 ? { tools } : {}),
    ...(toolChoice == null ? {} : { tool_choice: toolChoice }),
    ...(request.parallel_tool_calls == null ? {} : { parallel_tool_calls: request.parallel_tool_calls }),
  };
}

function responseFormat(request: ResponsesRequest): Record<string, unknown> {
  const format = request.text?.format;
  const verbosity = request.text?.verbosity;
  const mapped =
    format === undefined
      ? undefined
      : format.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: format.name,
              schema: format.schema,
              ...(format.description === undefined ? {} : { description: format.description }),
              ...(format.strict == null ? {} : { strict: format.strict }),
            },
          }
        : { type: format.type };
  return { ...(mapped === undefined ? {} : { response_format: mapped }), ...(verbosity == null ? {} : { verbosity }) };
}

function refuseUnsupported(request: ResponsesRequest): void {
  for (const [field, reason] of unsupportedFields) if (request[field] != null) throw unsupported(field, reason);
  if (request.background === true) throw unsupported('background', notStored);
  if (request.truncation === 'auto') throw unsupported('truncation', 'Nexus does not truncate a conversation: it is sent whole (`truncation: "disabled"`).');
  const { effort: _effort, ...reasoning } = request.reasoning ?? {};
  const other = Object.entries(reasoning).find(([, value]) => value != null);
  if (other !== undefined) throw unsupported(`reasoning.${other[0]}`, 'Chat completions providers take only a reasoning effort; reasoning summaries are not available.');
  const excluded = (request.include ?? []).find((value) => !includable.has(value));
  if (excluded !== undefined) throw unsupported('include', `\`${excluded}\` names an output Nexus cannot produce; only message.output_text.logprobs can be included.`);
}

/**
 * A Responses request as the chat completions request Nexus serves it through (so budgets, policy,
 * redaction, breakers, aliases and the `local` model apply exactly as to chat completions).
 * `instructions` become the first, system message; `max_output_tokens` becomes
 * `max_completion_tokens`; `reasoning.effort`, `text.format` and `text.verbosity` become
 * `reasoning_effort`, `response_format` and `verbosity`; fields both APIs share pass as they are.
 */
export function toChatCompletionsBody(request: ResponsesRequest): Record<string, unknown> {
  refuseUnsupported(request);
  const input = typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : chatMessages(request.input);
  const messages = request.instructions == null || request.instructions === '' ? input : [{ role: 'system', content: request.instructions }, ...input];
  const same = (['temperature', 'top_p', 'store', 'metadata', 'user', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention', 'service_tier'] as const).flatMap(
    (field) => (request[field] == null ? [] : [[field, request[field]]]),
  );
  const logprobs = request.include?.includes('message.output_text.logprobs') === true || (request.top_logprobs ?? 0) > 0;
  return {
    model: request.model,
    messages,
    ...chatTools(request),
    ...responseFormat(request),
    ...Object.fromEntries(same),
    ...(request.max_output_tokens == null ? {} : { max_completion_tokens: request.max_output_tokens }),
    ...(request.reasoning?.effort == null ? {} : { reasoning_effort: request.reasoning.effort }),
    ...(logprobs ? { logprobs: true } : {}),
    ...(request.top_logprobs == null ? {} : { top_logprobs: request.top_logprobs }),
    ...(request.stream === true ? { stream: true } : {}),
  };
}
