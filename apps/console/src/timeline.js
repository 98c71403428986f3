import { html } from './html.js';

/**
 * One line of a run's timeline per recorded event: what an operator asks of each (who, which rule,
 * how many tokens, what it cost). Events of a type not listed show by name.
 * @typedef {{ type: string, streamId: string, occurredAt: string, actor: string, data: any }} RunEvent
 */

/** @param {number} micro */
export const usd = (micro) => `$${(micro / 1_000_000).toFixed(6)}`;

/** @param {RunEvent} event */
function summary({ type, data }) {
  switch (type) {
    case 'RunStarted':
      return `model ${data.model}; tools ${data.tools.join(', ') || 'none'}; at most ${data.maxSteps} steps`;
    case 'LlmCallRequested':
      return `step ${data.step}: ${data.model}, up to ${data.maxTokens} tokens reserved`;
    case 'LlmCallCompleted': {
      const flags = data.flags === undefined ? '' : `; content-filter flags: ${JSON.stringify(data.flags)}`;
      return `step ${data.step}: ${data.provider}/${data.model}, ${data.usage.promptTokens} + ${data.usage.completionTokens} tokens, ${usd(data.costMicroUsd)}, ${data.latencyMs} ms, ${data.finishReason}${flags}`;
    }
    case 'LlmCallFailed':
      return `step ${data.step}: ${data.reason}: ${data.error}`;
    case 'ToolCallRequested':
      return `${data.tool} ${JSON.stringify(data.input)} (risk ${data.risk})`;
    case 'ToolCallAllowed':
    case 'ToolCallDenied':
    case 'ToolCallAwaitingApproval':
      return `policy rule ${data.rule}: ${data.reason}`;
    case 'ToolCallApproved':
      return `by ${data.approvedBy} at ${data.approvedAt}${data.reason ? `: ${data.reason}` : ''}`;
    case 'ToolCallRejected':
      return `by ${data.rejectedBy} at ${data.rejectedAt}: ${data.reason}`;
    case 'ToolCallStarted':
      return `attempt ${data.attempt}`;
    case 'ToolCallSucceeded':
      return `in ${data.latencyMs} ms: ${JSON.stringify(data.output).slice(0, 300)}`;
    case 'ToolCallFailed':
      return `in ${data.latencyMs} ms: ${data.error}`;
    case 'ToolResultRecorded':
      return `${data.status}: ${data.content.slice(0, 300)}`;
    case 'RunCompleted':
      return data.output;
    case 'RunFailed':
      return `${data.reason}: ${data.detail}`;
    case 'RunCancelled':
      return `by ${data.cancelledBy}${data.reason ? `: ${data.reason}` : ''}`;
    default:
      return '';
  }
}

/** @param {string} type */
const tone = (type) =>
  /Failed|Denied|Rejected|Expired|Cancelled/.test(type) ? 'bad' : /Succeeded|Completed|Approved|Allowed/.test(type) ? 'good' : '';

/** @param {{ events: RunEvent[] }} props */
export function Timeline({ events }) {
  return html`<ol class="timeline" aria-label="Timeline">
    ${events.map(
      (event) => html`<li class=${tone(event.type)} data-type=${event.type}>
        <time datetime=${event.occurredAt}>${new Date(event.occurredAt).toLocaleTimeString()}</time>
        <strong>${event.type}</strong>
        ${event.streamId.startsWith('toolcall-') ? html` <span class="tag">tool call</span>` : null}
        <span class="summary">${summary(event)}</span>
      </li>`,
    )}
  </ol>`;
}
