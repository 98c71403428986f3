import { useEffect, useState } from 'preact/hooks';
import { ApiProblem, followRun, get, hasRole, post } from '../api.js';
import { Decision } from './approvals.js';
import { html } from '../html.js';
import { problemText } from '../live.js';
import { Timeline } from '../timeline.js';

/** How long a run's page waits for the run's document to be projected (40 × 250 ms). */
const RUN_LOAD_ATTEMPTS = 40;
const RUN_LOAD_RETRY_MS = 250;

const ends = { RunCompleted: 'completed', RunFailed: 'failed', RunCancelled: 'cancelled' };

/** @param {{ runId: string, me: import('../api.js').Me }} props */
export function RunPage({ runId, me }) {
  const [run, setRun] = useState(/** @type {any} */ (null));
  const [events, setEvents] = useState(/** @type {import('../timeline.js').RunEvent[]} */ ([]));
  const [tokens, setTokens] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState(/** @type {unknown} */ (null));
  const [cancelOutcome, setCancelOutcome] = useState('');

  useEffect(() => {
    const abort = new AbortController();
    document.title = `Run ${runId} · Nexus console`;
    // A run just started may not be in the read models yet (they trail the log): its page asks
    // again for a while before it says the run is not there.
    const load = (attempt = 0) =>
      get(`/v1/runs/${encodeURIComponent(runId)}`).then(
        (doc) => {
          setRun(doc);
          setStatus((current) => current || doc.status);
        },
        (problem) => {
          if (abort.signal.aborted) return;
          if (problem instanceof ApiProblem && problem.status === 404 && attempt < RUN_LOAD_ATTEMPTS) setTimeout(() => load(attempt + 1), RUN_LOAD_RETRY_MS);
          else setError(problem);
        },
      );
    load();
    // The timeline is built from the SSE stream, which reads the event log itself: it is ahead of
    // the read models, and tokens arrive while the model writes.
    followRun(
      runId,
      ({ event, data }) => {
        if (event === 'end') return;
        const parsed = JSON.parse(data);
        if (event === 'token') return setTokens((text) => text + parsed.text);
        setEvents((list) => [...list, parsed]);
        if (parsed.type === 'LlmCallCompleted') setTokens('');
        if (parsed.type === 'ToolCallAwaitingApproval') setStatus('awaiting_approval');
        if (parsed.type === 'ToolCallApproved' || parsed.type === 'LlmCallRequested') setStatus('running');
        if (parsed.type in ends) setStatus(ends[/** @type {keyof typeof ends} */ (parsed.type)]);
      },
      abort.signal,
    ).catch(setError);
    return () => abort.abort();
  }, [runId]);

  const finished = status in { completed: 1, failed: 1, cancelled: 1 };
  const output = events.find((e) => e.type === 'RunCompleted')?.data.output;
  const failure = events.find((e) => e.type === 'RunFailed')?.data;
  const awaiting = awaitingApproval(events);
  const mayDecide = hasRole(me, 'approver') || hasRole(me, 'admin');
  const mayCancel = run !== null && (run.userId === me.userId || hasRole(me, 'admin'));
  const cancel = async () => {
    try {
      await post(`/v1/runs/${encodeURIComponent(runId)}/cancel`, { reason: 'cancelled from the console' });
      setCancelOutcome('Cancelled.');
    } catch (problem) {
      setCancelOutcome(`Refused: ${problemText(problem)}`);
    }
  };
  return html`
    <h1>Run <code>${runId}</code></h1>
    ${error !== null ? html`<p role="alert" class="error">${problemText(error)}</p>` : null}
    <p>Status: <strong class="status" data-status=${status}>${status || '…'}</strong>
      ${run !== null ? html` · session <a href="#/sessions/${run.sessionId}">${run.sessionId}</a>` : null}
    </p>
    ${run !== null ? html`<p>Input:</p><pre class="json">${run.input}</pre>` : null}
    ${mayCancel && !finished && status !== '' ? html`<button type="button" class="danger" onClick=${cancel}>Cancel run</button>` : null}
    ${cancelOutcome !== '' ? html`<p role="status">${cancelOutcome}</p>` : null}
    ${awaiting.map(
      (call) => html`<section class="card" key=${call.id} aria-label="Approval of ${call.tool}">
        <h2>${call.tool} waits for approval</h2>
        <pre class="json">${JSON.stringify(call.input, null, 2)}</pre>
        ${mayDecide ? html`<${Decision} toolCallId=${call.id} argsDigest=${call.argsDigest} />` : html`<p>An approver other than the requester decides it.</p>`}
      </section>`,
    )}
    <h2>Timeline</h2>
    <${Timeline} events=${events} />
    ${tokens !== '' ? html`<section aria-label="Model writing"><h2>Model writing…</h2><pre class="live-tokens" aria-live="polite">${tokens}</pre></section>` : null}
    ${output !== undefined ? html`<h2>Output</h2><pre class="output">${output}</pre>` : null}
    ${failure !== undefined ? html`<h2>Error</h2><pre class="output error">${failure.reason}: ${failure.detail}</pre>` : null}
  `;
}

/**
 * The run's tool calls that wait for a human now, from the events seen so far.
 * @param {import('../timeline.js').RunEvent[]} events
 */
function awaitingApproval(events) {
  /** @type {Map<string, { id: string, tool: string, input: unknown, argsDigest: string, waiting: boolean }>} */
  const calls = new Map();
  for (const event of events) {
    if (!event.streamId.startsWith('toolcall-')) continue;
    const id = event.streamId.slice('toolcall-'.length);
    if (event.type === 'ToolCallRequested') calls.set(id, { id, tool: event.data.tool, input: event.data.input, argsDigest: event.data.argsDigest, waiting: false });
    const call = calls.get(id);
    if (call !== undefined) call.waiting = event.type === 'ToolCallAwaitingApproval' || (call.waiting && !/Approved|Rejected|Expired/.test(event.type));
  }
  return [...calls.values()].filter((call) => call.waiting);
}
