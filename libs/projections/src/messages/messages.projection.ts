import { uncopiedRunEvent, type RecordedEvent, type RunEvent } from '@nexus/events';
import { asDomainEvent, streamCategory, streamEntityId, type Projection } from '../projection';

export interface MessageView {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
  readonly toolCallId?: string;
  /** Completion tokens for the assistant; null where no event counts them (user and tool). */
  readonly tokens: number | null;
  readonly at: string;
  /** Tool results: prompt-injection markers the gateway found in them (content is unchanged). */
  readonly injectionMarkers?: readonly string[];
  /** Assistant answers: secrets redacted from them before they were recorded, by kind. */
  readonly redactions?: Readonly<Record<string, number>>;
}

export interface MessagesDocument {
  readonly id: string;
  readonly runId: string;
  readonly sessionId: string;
  readonly tenantId: string;
  readonly messages: MessageView[];
}

/** `GET /v1/runs/{id}/messages`: one document per run holding its conversation in order. */
export const messagesProjection: Projection<MessagesDocument> = {
  name: 'messages',
  // A fork's copied steps are its conversation too.
  handles: ['RunStarted', 'LlmCallCompleted', 'ToolResultRecorded', 'RunEventCopied'],
  documentId: (event: RecordedEvent) =>
    streamCategory(event.streamId) === 'run' ? streamEntityId(event.streamId) : null,
  evolve(doc, event) {
    const e = uncopiedRunEvent(asDomainEvent<RunEvent>(event));
    if (e.type === 'RunStarted') {
      return {
        id: e.data.runId,
        runId: e.data.runId,
        sessionId: e.data.sessionId,
        tenantId: e.data.tenantId,
        messages: [{ role: 'user', content: e.data.input, tokens: null, at: e.data.startedAt }],
      };
    }
    if (doc === null) return null;
    switch (e.type) {
      case 'LlmCallCompleted': {
        const { flags } = e.data;
        const markers = (toolCallId: string | undefined) =>
          [...new Set((flags?.injection ?? []).filter((f) => f.toolCallId === toolCallId).map((f) => f.marker))];
        const redactions = flags !== undefined && Object.keys(flags.redactions).length > 0 ? { redactions: flags.redactions } : {};
        return {
          ...doc,
          messages: [
            ...doc.messages.map((m) => {
              const found = m.role === 'tool' ? markers(m.toolCallId) : [];
              return found.length === 0 ? m : { ...m, injectionMarkers: [...new Set([...(m.injectionMarkers ?? []), ...found])] };
            }),
            { role: 'assistant', content: e.data.content, tokens: e.data.usage.completionTokens, at: e.data.completedAt, ...redactions },
          ],
        };
      }
      case 'ToolResultRecorded':
        return {
          ...doc,
          messages: [
            ...doc.messages,
            { role: 'tool', content: e.data.content, toolCallId: e.data.toolCallId, tokens: null, at: e.data.recordedAt },
          ],
        };
      default:
        return doc;
    }
  },
};
