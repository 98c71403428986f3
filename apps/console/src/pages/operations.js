import { useEffect } from 'preact/hooks';
import { get } from '../api.js';
import { html } from '../html.js';
import { problemText, usePolled } from '../live.js';

const pollMs = 2000;

/**
 * @param {{ caption: string, columns: string[], rows: unknown[][], empty: string }} props
 */
function Table({ caption, columns, rows, empty }) {
  if (rows.length === 0) return html`<p>${empty}</p>`;
  return html`<table class="list">
    <caption class="visually-hidden">${caption}</caption>
    <thead><tr>${columns.map((column) => html`<th scope="col">${column}</th>`)}</tr></thead>
    <tbody>${rows.map((row) => html`<tr>${row.map((cell) => html`<td>${cell}</td>`)}</tr>`)}</tbody>
  </table>`;
}

/** The deployment's machinery (admins and operators): `GET /v1/admin/operations`, re-read every 2 s. */
export function OperationsPage() {
  const { value, error } = usePolled(() => get('/v1/admin/operations'), pollMs, []);
  useEffect(() => {
    document.title = 'Operations · Nexus console';
  }, []);
  /** @param {string} at */
  const ago = (at) => `${Math.max(0, Math.round((Date.now() - Date.parse(at)) / 1000))} s ago`;
  return html`
    <h1>Operations</h1>
    ${error !== null
      ? html`<p role="alert" class="error">${problemText(error)}${/** @type {{ status?: number }} */ (error).status === 404
          ? " — this address does not serve the admin endpoints (behind the compose stack's nginx they are on the operators' listener only)."
          : ''}</p>`
      : null}
    ${value !== undefined
      ? html`
          <p>The log's head is at position <strong>${value.headPosition}</strong>.</p>
          <h2>Read models and log consumers</h2>
          <${Table}
            caption="Checkpoints of what reads the log"
            columns=${['Name', 'Position', 'Lag (events)', 'Last moved']}
            rows=${value.logCheckpoints.map((/** @type {any} */ c) => [c.name, c.position, c.lagEvents, ago(c.updatedAt)])}
            empty="Nothing reads the log directly (the projector reads the bus)."
          />
          <h2>Outbox relay</h2>
          <${Table}
            caption="Outbox relay progress"
            columns=${['Relay', 'Position', 'Lag (events)', 'Last moved']}
            rows=${value.relays.map((/** @type {any} */ c) => [c.name, c.position, c.lagEvents, ago(c.updatedAt)])}
            empty="No relay: the event store itself is the bus."
          />
          <h2>Consumer groups</h2>
          <${Table}
            caption="Partitioned consumer groups"
            columns=${['Group', 'Live members', 'Partitions owned', 'Oldest checkpoint']}
            rows=${value.consumers.map((/** @type {any} */ c) => [c.consumer, c.members, `${c.owned} / ${c.partitions}`, c.oldestCheckpointAt === null ? '—' : ago(c.oldestCheckpointAt)])}
            empty="No partitioned consumer groups (embedded mode reads the log)."
          />
          <h2>Dead letters</h2>
          <${Table}
            caption="Dead letters by consumer"
            columns=${['Consumer', 'Messages', 'Last', 'Last error']}
            rows=${value.deadLetters.map((/** @type {any} */ d) => [d.consumer, d.count, ago(d.lastAt), d.lastError ?? '—'])}
            empty="No dead letters."
          />
          <h2>LLM providers</h2>
          ${value.providers === null
            ? html`<p>The gateway runs in another process: its breakers are in its metrics (<code>nexus_llm_circuit_state</code>).</p>`
            : html`<${Table}
                caption="Circuit breakers by provider and model"
                columns=${['Provider', 'Model', 'Breaker']}
                rows=${value.providers.map((/** @type {any} */ p) => [p.provider, p.model, p.state])}
                empty="No provider has been called yet."
              />`}
        `
      : null}
  `;
}
