import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { signOut, storedCredentials } from './api.js';
import { html } from './html.js';
import { ApprovalsPage } from './pages/approvals.js';
import { SignInPage } from './pages/sign-in.js';

/** Pages other than the first are loaded when first opened, so the first view needs fewer files. */
const later = {
  RunPage: () => import('./pages/run.js'),
  SessionsPage: () => import('./pages/sessions.js'),
  SessionPage: () => import('./pages/sessions.js'),
  AuditPage: () => import('./pages/audit.js'),
  OperationsPage: () => import('./pages/operations.js'),
};

/** @param {{ page: keyof typeof later } & Record<string, unknown>} props */
function Later({ page, ...props }) {
  const [component, setComponent] = useState(/** @type {any} */ (null));
  useEffect(() => {
    let current = true;
    later[page]().then((module) => current && setComponent(() => /** @type {any} */ (module)[page]));
    return () => {
      current = false;
    };
  }, [page]);
  return component === null ? html`<p>Loading…</p>` : html`<${component} ...${props} />`;
}

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
      <nav aria-label="Pages">
        ${link('approvals', 'Approvals')} ${link('sessions', 'Sessions')} ${link('audit', 'Audit')}
        ${me.roles.includes('admin') || me.roles.includes('operator') ? link('operations', 'Operations') : null}
      </nav>
      <span class="who">${me.userId}@${me.tenantId} (${me.roles.join(', ')})</span>
      <button type="button" onClick=${leave}>Sign out</button>
    </header>
    <main id="main">
      ${page === 'runs' && id !== undefined
        ? html`<${Later} page="RunPage" key=${`run-${id}`} runId=${id} me=${me} />`
        : page === 'sessions' && id !== undefined
          ? html`<${Later} page="SessionPage" key=${`session-${id}`} sessionId=${id} me=${me} />`
          : page === 'sessions'
            ? html`<${Later} page="SessionsPage" key="sessions" me=${me} />`
            : page === 'audit'
              ? html`<${Later} page="AuditPage" key="audit" me=${me} />`
              : page === 'operations'
                ? html`<${Later} page="OperationsPage" key="operations" me=${me} />`
                : html`<${ApprovalsPage} me=${me} />`}
    </main>
  `;
}

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(html`<${App} />`, root);
  // The first view is on screen and takes input: the browser test reads this mark.
  performance.mark('nexus-console-interactive');
}
