import type { LlmMessage } from '../llm-provider.port';

/**
 * Markers of text trying to steer the model rather than inform it. Tool output is untrusted data (a
 * fetched web page, a file), so these are looked for there only; a user may legitimately say them.
 */
const MARKERS: ReadonlyArray<{ readonly marker: string; readonly pattern: RegExp }> = [
  { marker: 'ignore-previous-instructions', pattern: /\b(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(of\s+)?(the\s+|your\s+)?(previous|prior|above|earlier|preceding)\s+(instructions|prompts?|messages|rules|directions)/i },
  { marker: 'forget-your-instructions', pattern: /\b(forget|ignore|disregard)\s+(all\s+)?(your|the)\s+(instructions|rules|guidelines)\b/i },
  { marker: 'system-prompt', pattern: /\bsystem\s+prompt\b/i },
  { marker: 'new-instructions', pattern: /\bnew\s+instructions\s*:/i },
  { marker: 'role-reassignment', pattern: /\byou\s+are\s+now\b/i },
  { marker: 'role-play-jailbreak', pattern: /\b(pretend\s+(to\s+be|you\s+are)|act\s+as\s+(an?\s+)?(unfiltered|unrestricted|jailbroken)|developer\s+mode|do\s+anything\s+now|jailbreak|DAN\s+mode)\b/i },
  { marker: 'chat-template-injection', pattern: /<\|im_start\|>|<\|system\|>|<\/?system>|^\s*#{2,}\s*system\b|\[\/?INST\]/im },
];

export interface InjectionFlag {
  readonly messageIndex: number;
  readonly toolCallId: string | undefined;
  readonly marker: string;
  /** The matched text, so a reviewer sees why without opening the whole result. */
  readonly match: string;
}

/** Flags injection markers in tool messages; content is never changed — the caller records the flags. */
export function detectPromptInjection(messages: readonly LlmMessage[]): InjectionFlag[] {
  const flags: InjectionFlag[] = [];
  messages.forEach((message, messageIndex) => {
    if (message.role !== 'tool') return;
    for (const { marker, pattern } of MARKERS) {
      const found = pattern.exec(message.content);
      if (found) flags.push({ messageIndex, toolCallId: message.toolCallId, marker, match: found[0] });
    }
  });
  return flags;
}
