import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { loadConfiguration, signOut, storedCredentials } from './api.js';
import { html } from './html.js';
import { ApprovalsPage } from './pages/approvals.js';
import { AuditPage } from './pages/audit.js';
import { RunPage } from './pages/run.js';
import { SessionPage, SessionsPage } from './pages/sessions.js';
import { SignInPage } from './pages/sign-in.js';

/** Pages by hash route (`#/runs/<id>`): a static site with no server routes to keep in step. */
function route() {
  const [, page = 'approvals', id] = location.hash.replace(/^#/, '').split('/');
  return { page, id: id === undefined ? undefined : decodeURIComponent(id) };
}

function useRoute() {
  const [current, setCurrent] = useState(route);
  useEffect(() => {
    const changed = () => setCurrent(route());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return current;
}

function App() {
  const [credentials, setCredentials] = useState(storedCredentials);
  const { page, id } = useRoute();
  if (credentials === null) return html`<${SignInPage} onSignedIn=${setCredentials} />`;
  const { me } = credentials;
  const leave = () => {
    signOut();
    setCredentials(null);
  };
  const link = (/** @type {string} */ target, /** @type {string} */ label) =>
    html`<a href="#/${target}" aria-current=${page === target ? 'page' : undefined}>${label}</a>`;
  return html`
    <header class="top">
      <span class="brand">Nexus console</span>
      <nav aria-label="Pages">${link('approvals', 'Approvals')} ${link('sessions', 'Sessions')} ${link('audit', 'Audit')}</nav>
      <span class="who">${me.userId}@${me.tenantId} (${me.roles.join(', ')})</span>
      <button type="button" onClick=${leave}>Sign out</button>
    </header>
    <main id="main">
      ${page === 'runs' && id !== undefined
        ? html`<${RunPage} key=${id} runId=${id} me=${me} />`
        : page === 'sessions' && id !== undefined
          ? html`<${SessionPage} key=${id} sessionId=${id} me=${me} />`
          : page === 'sessions'
            ? html`<${SessionsPage} me=${me} />`
            : page === 'audit'
              ? html`<${AuditPage} me=${me} />`
              : html`<${ApprovalsPage} me=${me} />`}
    </main>
  `;
}

await loadConfiguration();
const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(html`<${App} />`, root);
  // The first view is on screen and takes input: the browser test reads this mark.
  performance.mark('nexus-console-interactive');
}
