import { useEffect, useState } from 'preact/hooks';
import { followToolCallChanges, get, hasRole, post } from '../api.js';
import { html } from '../html.js';
import { duration, problemText, useNow, usePolled } from '../live.js';

/**
 * @typedef {{ id: string, runId: string, sessionId: string, tool: string, category: string, risk: string,
 *   input: Record<string, unknown>, argsDigest: string, requestedBy: string, requestedAt: string,
 *   expiresAt: string | null, policy: { decision: string, rule: string, reason: string } | null }} ToolCall
 */

/**
 * The queue is re-read when the server says a tool call changed (`GET /v1/tool-calls/stream`), at
 * that position; this slow poll only catches what no event announces (an expiry's countdown is
 * local) and covers a lost stream.
 */
const pollMs = 10_000;

/** @param {{ me: import('../api.js').Me }} props */
export function ApprovalsPage({ me }) {
  // Each nudge (a reconnection counts as one) is a new object, which re-reads the list at once.
  const [nudge, setNudge] = useState(/** @type {{ at: number | undefined }} */ ({ at: undefined }));
  const { value, error } = usePolled(() => get('/v1/tool-calls?status=awaiting_approval&limit=200', nudge.at), pollMs, [nudge]);
  useEffect(() => {
    const abort = new AbortController();
    followToolCallChanges((at) => setNudge({ at: at ?? undefined }), abort.signal).catch(() => undefined);
    return () => abort.abort();
  }, []);
  /** @type {ToolCall[]} */
  const items = value?.items ?? [];
  // Cards the user has started to decide (a reason typed, a button pressed) stay on screen when
  // they leave the queue — decided in another tab or by another approver, or expired — rather
  // than vanishing under the cursor; they are marked, and the server answers any late decision.
  const [held, setHeld] = useState(/** @type {Map<string, ToolCall>} */ (new Map()));
  const hold = (/** @type {ToolCall} */ call) => setHeld((map) => (map.has(call.id) ? map : new Map(map).set(call.id, call)));
  const dismiss = (/** @type {string} */ id) => setHeld((map) => new Map([...map].filter(([key]) => key !== id)));
  const waiting = new Set(items.map((call) => call.id));
  const shown = [...items, ...[...held.values()].filter((call) => !waiting.has(call.id))];
  const now = useNow();
  const mayDecide = hasRole(me, 'approver') || hasRole(me, 'admin');
  useEffect(() => {
    document.title = `(${items.length}) Approvals · Nexus console`;
  }, [items.length]);
  return html`
    <h1>Approvals <span class="count" aria-label="${items.length} waiting">${items.length}</span></h1>
    <p class="hint">
      ${mayDecide ? 'Tool calls waiting for a decision in your tenant, oldest first.' : 'Your tool calls waiting for an approver. Only an approver or an admin, other than you, may decide them.'}
    </p>
    ${error !== null ? html`<p role="alert" class="error">${problemText(error)}</p>` : null}
    ${value !== undefined && shown.length === 0 ? html`<p>Nothing is waiting for approval.</p>` : null}
    <ul class="cards" aria-label="Approval queue">
      ${shown.map(
        (call) => html`<li key=${call.id}>
          <${ApprovalCard} call=${call} now=${now} mayDecide=${mayDecide} gone=${value !== undefined && !waiting.has(call.id)}
            onEngage=${() => hold(call)} onDismiss=${() => dismiss(call.id)} />
        </li>`,
      )}
    </ul>
  `;
}

/**
 * @param {{ call: ToolCall, now: number, mayDecide: boolean, gone: boolean, onEngage: () => void, onDismiss: () => void }} props
 */
function ApprovalCard({ call, now, mayDecide, gone, onEngage, onDismiss }) {
  const headingId = `call-${call.id}`;
  return html`
    <article class=${gone ? 'card gone' : 'card'} aria-labelledby=${headingId} data-tool-call=${call.id}>
      <h2 id=${headingId}>${call.tool} <span class="tag">${call.category}, risk ${call.risk}</span></h2>
      ${gone
        ? html`<p class="note">No longer waiting: decided elsewhere or expired.
            <button type="button" class="plain" onClick=${onDismiss}>Dismiss</button></p>`
        : null}
      <dl>
        <dt>Requested by</dt><dd>${call.requestedBy}</dd>
        <dt>Run</dt><dd><a href="#/runs/${call.runId}">${call.runId}</a></dd>
        <dt>Session</dt><dd><a href="#/sessions/${call.sessionId}">${call.sessionId}</a></dd>
        <dt>Policy</dt><dd>${call.policy === null ? 'not decided yet' : html`<code>${call.policy.rule}</code>: ${call.policy.reason}`}</dd>
        <dt>Expires in</dt><dd>${call.expiresAt === null ? 'never' : duration(Date.parse(call.expiresAt) - now)}</dd>
        <dt>Args digest</dt><dd><code class="digest">${call.argsDigest}</code></dd>
      </dl>
      <pre class="json" aria-label="Arguments">${JSON.stringify(call.input, null, 2)}</pre>
      ${mayDecide ? html`<${Decision} toolCallId=${call.id} argsDigest=${call.argsDigest} onEngage=${onEngage} />` : null}
    </article>
  `;
}

/**
 * Approve or reject with a reason. The server decides: its refusals (`approval_self`, `forbidden`,
 * `invalid_state`) are shown as they come.
 * @param {{ toolCallId: string, argsDigest: string, onEngage?: () => void }} props
 */
export function Decision({ toolCallId, argsDigest, onEngage }) {
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState(/** @type {{ ok: boolean, text: string } | null} */ (null));
  const [busy, setBusy] = useState(false);
  /** @param {'approve' | 'reject'} decision */
  const decide = async (decision) => {
    onEngage?.();
    setBusy(true);
    try {
      // An approval holds only for the arguments shown: the digest binds it to them.
      const body = decision === 'approve' ? { reason: reason || undefined, argsDigest } : { reason };
      const answer = await post(`/v1/tool-calls/${encodeURIComponent(toolCallId)}/${decision}`, body);
      setOutcome({ ok: true, text: `${decision === 'approve' ? 'Approved' : 'Rejected'} (${answer.status}).` });
    } catch (problem) {
      setOutcome({ ok: false, text: `Refused: ${problemText(problem)}` });
    } finally {
      setBusy(false);
    }
  };
  return html`
    <div class="decision">
      <label for="reason-${toolCallId}">Reason</label>
      <input id="reason-${toolCallId}" value=${reason} onInput=${(/** @type {any} */ e) => {
        onEngage?.();
        setReason(e.currentTarget.value);
      }} />
      <button type="button" disabled=${busy} onClick=${() => decide('approve')}>Approve</button>
      <button type="button" class="danger" disabled=${busy} onClick=${() => decide('reject')}>Reject</button>
    </div>
    ${outcome !== null ? html`<p role=${outcome.ok ? 'status' : 'alert'} class=${outcome.ok ? 'ok' : 'error'}>${outcome.text}</p>` : null}
  `;
}
