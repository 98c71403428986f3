import { h } from 'preact';
import htm from 'htm';

/** Tagged templates instead of JSX: the browser runs the console's files as they are, no build. */
export const html = htm.bind(h);
