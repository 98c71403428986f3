import { useState } from 'preact/hooks';
import { ApiProblem, signIn } from '../api.js';
import { html } from '../html.js';

/** @param {{ onSignedIn: (credentials: import('../api.js').Credentials) => void }} props */
export function SignInPage({ onSignedIn }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  /** @param {SubmitEvent} event */
  const submit = async (event) => {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.currentTarget);
    const token = String(new FormData(form).get('token') ?? '').trim();
    setBusy(true);
    try {
      onSignedIn(await signIn(token));
    } catch (problem) {
      setError(problem instanceof ApiProblem ? `${problem.title}: ${problem.message}` : String(problem));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main id="main" class="sign-in">
      <h1>Nexus console</h1>
      <form onSubmit=${submit}>
        <label for="token">API key or JWT</label>
        <input id="token" name="token" type="password" autocomplete="off" required autofocus />
        <p class="hint">Kept in this tab only; signing out or closing the tab forgets it.</p>
        <button type="submit" disabled=${busy}>Sign in</button>
        ${error !== '' ? html`<p role="alert" class="error">${error}</p>` : null}
      </form>
    </main>
  `;
}
