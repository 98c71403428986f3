import { useEffect, useState } from 'preact/hooks';
import { get, hasRole, ndjson } from '../api.js';
import { html } from '../html.js';
import { problemText } from '../live.js';

const filters = /** @type {const} */ ([
  ['actor', 'Actor (user id)', 'text'],
  ['action', 'Event type', 'text'],
  ['resourceType', 'Resource type', 'text'],
  ['resourceId', 'Resource id', 'text'],
  ['from', 'From', 'datetime-local'],
  ['to', 'To', 'datetime-local'],
]);

/** @param {{ me: import('../api.js').Me }} props */
export function AuditPage({ me }) {
  const [entries, setEntries] = useState(/** @type {any[] | null} */ (null));
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [why, setWhy] = useState(/** @type {string | null} */ (null));
  const [more, setMore] = useState(/** @type {{ query: URLSearchParams, cursor: string } | null} */ (null));
  /** @param {URLSearchParams} query @param {boolean} append */
  const load = async (query, append) => {
    try {
      const page = await get(`/v1/audit?${query}`);
      setEntries((shown) => (append ? [...(shown ?? []), ...page.items] : page.items));
      setMore(page.nextCursor ? { query, cursor: page.nextCursor } : null);
      setError(null);
    } catch (problem) {
      setError(problem);
    }
  };
  useEffect(() => {
    document.title = 'Audit · Nexus console';
  }, []);
  /** @param {SubmitEvent} event */
  const search = async (event) => {
    event.preventDefault();
    const form = new FormData(/** @type {HTMLFormElement} */ (event.currentTarget));
    const query = new URLSearchParams({ limit: '100' });
    for (const [name, , type] of filters) {
      const value = String(form.get(name) ?? '').trim();
      if (value !== '') query.set(name, type === 'datetime-local' ? new Date(value).toISOString() : value);
    }
    await load(query, false);
  };
  const loadMore = () => {
    if (more === null) return;
    const query = new URLSearchParams(more.query);
    query.set('cursor', more.cursor);
    void load(query, true);
  };
  return html`
    <h1>Audit</h1>
    <form class="filters" onSubmit=${search} aria-label="Audit filters">
      ${filters.map(([name, label, type]) => html`<label>${label} <input name=${name} type=${type} /></label>`)}
      <button type="submit">Search</button>
    </form>
    ${error !== null ? html`<p role="alert" class="error">${problemText(error)}</p>` : null}
    ${entries !== null
      ? html`<table class="list">
          <caption class="visually-hidden">Audit entries</caption>
          <thead><tr><th scope="col">At</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Position</th><th scope="col"><span class="visually-hidden">Explain</span></th></tr></thead>
          <tbody>
            ${entries.map(
              (entry) => html`<tr key=${entry.id}>
                <td>${new Date(entry.at).toLocaleString()}</td>
                <td>${entry.actor}</td>
                <td>${entry.action}</td>
                <td>${entry.resourceType} <code>${entry.resourceId}</code></td>
                <td>${entry.position}</td>
                <td>${entry.resourceType === 'toolcall' && firstOfToolCall(entries, entry)
                  ? html`<button type="button" onClick=${() => setWhy(entry.resourceId)}>Why was this allowed?</button>`
                  : null}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${entries.length === 0 ? html`<p>No entries match.</p>` : null}
        ${more !== null ? html`<button type="button" onClick=${loadMore}>Load more</button>` : null}`
      : null}
    ${why !== null ? html`<${WhyAllowed} key=${why} toolCallId=${why} />` : null}
    ${hasRole(me, 'admin') || hasRole(me, 'operator') ? html`<${ChainVerification} />` : null}
  `;
}

/**
 * One "why" button per tool call in the results, on its first row.
 * @param {any[]} entries @param {any} entry
 */
const firstOfToolCall = (entries, entry) => entries.find((other) => other.resourceType === 'toolcall' && other.resourceId === entry.resourceId) === entry;

/**
 * The answer from the tool call's own events: the policy's decision and rule, the approval (who,
 * when, why) and the digest of the arguments it was bound to.
 * @param {{ toolCallId: string }} props
 */
function WhyAllowed({ toolCallId }) {
  const [events, setEvents] = useState(/** @type {any[] | null} */ (null));
  const [error, setError] = useState(/** @type {unknown} */ (null));
  useEffect(() => {
    get(`/v1/streams/toolcall-${encodeURIComponent(toolCallId)}/events`).then((page) => setEvents(page.events), setError);
  }, [toolCallId]);
  const find = (/** @type {string} */ type) => events?.find((event) => event.type === type)?.data;
  const requested = find('ToolCallRequested');
  const verdict = find('ToolCallAllowed') ?? find('ToolCallAwaitingApproval') ?? find('ToolCallDenied');
  const decision = events?.find((event) => /^ToolCall(Allowed|AwaitingApproval|Denied)$/.test(event.type))?.type;
  const approved = find('ToolCallApproved');
  const rejected = find('ToolCallRejected');
  return html`<section class="card why" aria-labelledby="why-heading">
    <h2 id="why-heading">Why was tool call <code>${toolCallId}</code> allowed?</h2>
    ${error !== null ? html`<p role="alert" class="error">${problemText(error)}</p>` : null}
    ${events !== null && requested !== undefined
      ? html`<dl>
          <dt>Tool</dt><dd>${requested.tool}, requested by ${requested.requestedBy.userId} at ${requested.requestedAt}</dd>
          <dt>Policy</dt><dd>${verdict === undefined ? 'no decision recorded' : html`${decision}: rule <code>${verdict.rule}</code> (${verdict.reason})`}</dd>
          <dt>Approval</dt><dd>${approved !== undefined
            ? `approved by ${approved.approvedBy} at ${approved.approvedAt}${approved.reason ? `: ${approved.reason}` : ''}`
            : rejected !== undefined
              ? `rejected by ${rejected.rejectedBy}: ${rejected.reason}`
              : 'none needed or none given'}</dd>
          <dt>Args digest</dt><dd><code class="digest">${requested.argsDigest}</code>${approved !== undefined
            ? approved.argsDigest === requested.argsDigest ? ' (the approval is bound to it)' : ' (the approval names another digest!)'
            : ''}</dd>
        </dl>`
      : null}
  </section>`;
}

/** The admin endpoint's NDJSON progress, line by line, for those allowed to run it. */
function ChainVerification() {
  const [lines, setLines] = useState(/** @type {any[]} */ ([]));
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [running, setRunning] = useState(false);
  const verify = async () => {
    setLines([]);
    setError(null);
    setRunning(true);
    try {
      await ndjson('/v1/admin/audit/verify', (line) => setLines((all) => [...all, line]));
    } catch (problem) {
      setError(problem);
    } finally {
      setRunning(false);
    }
  };
  const start = lines.find((line) => line.type === 'start');
  const progress = lines.filter((line) => line.type === 'progress');
  const result = lines.find((line) => line.type === 'result');
  const failed = lines.find((line) => line.type === 'error');
  const latest = progress[progress.length - 1];
  return html`<section aria-labelledby="verify-heading">
    <h2 id="verify-heading">Audit chain</h2>
    <button type="button" onClick=${verify} disabled=${running}>Verify the audit chain</button>
    ${error !== null
      ? html`<p role="alert" class="error">${problemText(error)}${/** @type {{ status?: number }} */ (error).status === 404
          ? " — this address does not serve the admin endpoints (behind the compose stack's nginx they are on the operators' listener only); `nexus audit verify` there does the same."
          : ''}</p>`
      : null}
    ${start !== undefined
      ? html`<p>
          <label for="verify-progress">Checked ${latest?.events ?? 0} events in ${latest?.streams ?? 0} streams${start.tenantId === null ? ' (every tenant)' : ` (tenant ${start.tenantId})`}</label>
          <progress id="verify-progress" max=${Math.max(1, start.total)} value=${result !== undefined ? Math.max(1, start.total) : (latest?.events ?? 0)}></progress>
        </p>
        <ol class="progress-log" aria-label="Verification progress">
          ${progress.map((line) => html`<li>progress: ${line.events} events, ${line.streams} streams</li>`)}
        </ol>`
      : null}
    ${result !== undefined
      ? result.failures.length === 0
        ? html`<p role="status" class="ok verify-result">Chain intact: ${result.events} events in ${result.streams} streams verified in ${result.seconds.toFixed(2)} s.</p>`
        : html`<div role="alert" class="error verify-result">Chain broken at ${result.failures.length} events:
            <pre>${JSON.stringify(result.failures.slice(0, 20), null, 2)}</pre></div>`
      : null}
    ${failed !== undefined ? html`<p role="alert" class="error">Verification failed: ${failed.message}</p>` : null}
  </section>`;
}
