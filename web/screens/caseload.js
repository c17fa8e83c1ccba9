// The social worker's and supervisor's day: what needs doing first.
import { html } from '../lib/html.js';
import { useFocusHeading } from './ui.js';

/** @param {any} _props */
export function Caseload(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>Caseload</h1></main>`;
}

