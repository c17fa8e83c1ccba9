// The branch's support requests: urgent first, receive, link, close.
import { html } from '../lib/html.js';
import { useFocusHeading } from './ui.js';

/** @param {any} _props */
export function Requests(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>Requests</h1></main>`;
}

/** @param {any} _props */
export function Request(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>Request</h1></main>`;
}

