import { useEffect, useRef } from 'preact/hooks';
import { get } from '../api.js';
import { html } from '../html.js';
import { problemText, usePolled } from '../live.js';

/**
 * @typedef {{ id: string, userId: string | null, status: string, createdAt: string | null, runCount: number,
 *   budget: { limit: { tokens: number, costUsd?: number, wallClockSeconds?: number },
 *     reserved: { tokens: number, costUsd: number }, consumed: { tokens: number, costUsd: number } } }} Session
 */

const pollMs = 2000;

/** @param {{ me: import('../api.js').Me }} props */
export function SessionsPage({ me }) {
  const { value, error } = usePolled(() => get('/v1/sessions?limit=200'), pollMs, []);
  /** @type {Session[]} */
  const items = value?.items ?? [];
  useEffect(() => {
    document.title = 'Sessions · Nexus console';
  }, []);
  return html`
    <h1>Sessions</h1>
    <p class="hint">${me.roles.includes('admin') ? "Your tenant's sessions." : 'Your sessions.'}</p>
    ${error !== null ? html`<p role="alert" class="error">${problemText(error)}</p>` : null}
    ${value !== undefined && items.length === 0 ? html`<p>No sessions yet.</p>` : null}
    <table class="list">
      <caption class="visually-hidden">Sessions and their budgets</caption>
      <thead><tr><th scope="col">Session</th><th scope="col">Owner</th><th scope="col">Status</th><th scope="col">Runs</th><th scope="col">Budget</th></tr></thead>
      <tbody>
        ${items.map(
          (session) => html`<tr key=${session.id}>
            <td><a href="#/sessions/${session.id}">${session.id}</a></td>
            <td>${session.userId ?? '—'}</td>
            <td>${session.status}</td>
            <td>${session.runCount}</td>
            <td><${BudgetBars} budget=${session.budget} /></td>
          </tr>`,
        )}
      </tbody>
    </table>
  `;
}

/**
 * One bar per bounded dimension: consumed, then reserved, against the limit.
 * @param {{ budget: Session['budget'] }} props
 */
export function BudgetBars({ budget }) {
  /** @type {[string, number, number, number, (n: number) => string][]} */
  const dimensions = [['tokens', budget.limit.tokens, budget.consumed.tokens, budget.reserved.tokens, (n) => String(n)]];
  if (budget.limit.costUsd !== undefined) {
    dimensions.push(['cost', budget.limit.costUsd, budget.consumed.costUsd, budget.reserved.costUsd, (n) => `$${n.toFixed(4)}`]);
  }
  if (budget.limit.wallClockSeconds !== undefined) {
    dimensions.push(['wall clock', budget.limit.wallClockSeconds, 0, 0, (n) => `${n} s`]);
  }
  return html`<div class="budget">
    ${dimensions.map(([name, limit, consumed, reserved, format]) => {
      const label = `${name}: ${format(consumed)} consumed, ${format(reserved)} reserved, of ${format(limit)}`;
      const part = (/** @type {number} */ n) => `${Math.min(100, (100 * n) / Math.max(limit, Number.EPSILON))}%`;
      return html`<div class="bar-row">
        <span class="bar-name">${name}</span>
        <div class="bar" role="img" aria-label=${label} title=${label}>
          <span class="consumed" style=${{ width: part(consumed) }}></span><span class="reserved" style=${{ width: part(reserved) }}></span>
        </div>
        <span class="bar-text">${format(consumed)} + ${format(reserved)} / ${format(limit)}</span>
      </div>`;
    })}
  </div>`;
}

/** @param {{ sessionId: string, me: import('../api.js').Me }} props */
export function SessionPage({ sessionId }) {
  const id = encodeURIComponent(sessionId);
  const session = usePolled(() => get(`/v1/sessions/${id}`), pollMs, [sessionId]);
  const runs = usePolled(() => get(`/v1/runs?sessionId=${id}&limit=200`), pollMs, [sessionId]);
  const budget = usePolled(() => get(`/v1/streams/budget-${id}/events`), pollMs, [sessionId]);
  useEffect(() => {
    document.title = `Session ${sessionId} · Nexus console`;
  }, [sessionId]);
  /** @type {Session | undefined} */
  const doc = session.value;
  const error = session.error ?? runs.error ?? budget.error;
  return html`
    <h1>Session <code>${sessionId}</code></h1>
    ${error !== null ? html`<p role="alert" class="error">${problemText(error)}</p>` : null}
    ${doc !== undefined
      ? html`<p>Owner ${doc.userId ?? '—'} · ${doc.status} · ${doc.runCount} runs</p><${BudgetBars} budget=${doc.budget} />`
      : null}
    <h2>Tokens and cost over time</h2>
    <${SpendChart} events=${budget.value?.events ?? []} />
    <h2>Runs</h2>
    <table class="list">
      <caption class="visually-hidden">Runs of the session</caption>
      <thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Steps</th><th scope="col">Tokens</th><th scope="col">Cost</th><th scope="col">Started</th></tr></thead>
      <tbody>
        ${(runs.value?.items ?? []).map(
          (/** @type {any} */ run) => html`<tr key=${run.id}>
            <td><a href="#/runs/${run.id}">${run.id}</a></td>
            <td>${run.status}</td>
            <td>${run.steps}</td>
            <td>${run.usage.promptTokens + run.usage.completionTokens}</td>
            <td>$${run.usage.costUsd.toFixed(6)}</td>
            <td>${new Date(run.startedAt).toLocaleString()}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  `;
}

/**
 * Cumulative tokens and cost consumed, from the budget stream's `BudgetConsumed` events.
 * @param {{ events: { type: string, data: any }[] }} props
 */
function SpendChart({ events }) {
  const target = useRef(/** @type {HTMLDivElement | null} */ (null));
  const consumed = events.filter((event) => event.type === 'BudgetConsumed');
  const points = consumed.reduce(
    (series, event) => {
      const last = series.length - 1;
      series.push({
        at: Date.parse(event.data.consumedAt) / 1000,
        tokens: (series[last]?.tokens ?? 0) + event.data.consumed.tokens,
        cost: (series[last]?.cost ?? 0) + event.data.consumed.costMicroUsd / 1_000_000,
      });
      return series;
    },
    /** @type {{ at: number, tokens: number, cost: number }[]} */ ([]),
  );
  const key = points.map((p) => `${p.at}:${p.tokens}`).join(',');
  useEffect(() => {
    const element = target.current;
    if (element === null || points.length === 0) return;
    /** @type {{ destroy(): void } | undefined} */
    let plot;
    let gone = false;
    // uPlot (script and stylesheet) is loaded when a chart is first drawn, not with the first page.
    if (document.querySelector('link[href="vendor/uplot.css"]') === null) {
      document.head.append(Object.assign(document.createElement('link'), { rel: 'stylesheet', href: 'vendor/uplot.css' }));
    }
    void import('uplot').then(({ default: uPlot }) => {
      if (gone) return;
      plot = new uPlot(
        {
          width: Math.min(800, element.clientWidth || 800),
          height: 240,
          series: [
            {},
            { label: 'tokens', stroke: '#1f5fbf', width: 2, scale: 'tokens' },
            { label: 'cost (USD)', stroke: '#b3261e', width: 2, scale: 'usd', value: (/** @type {unknown} */ _u, /** @type {number | null} */ v) => (v === null ? '' : `$${v.toFixed(6)}`) },
          ],
          axes: [{}, { scale: 'tokens', label: 'tokens' }, { scale: 'usd', side: 1, label: 'USD', grid: { show: false } }],
        },
        [points.map((p) => p.at), points.map((p) => p.tokens), points.map((p) => p.cost)],
        element,
      );
    });
    return () => {
      gone = true;
      plot?.destroy();
    };
  }, [key]);
  if (points.length === 0) return html`<p>Nothing consumed yet.</p>`;
  const last = points[points.length - 1];
  return html`<figure>
    <div ref=${target} class="chart"></div>
    <figcaption>${last?.tokens} tokens and $${last?.cost.toFixed(6)} consumed over ${points.length} LLM calls.</figcaption>
  </figure>`;
}
