// Mandated reports: made from a case, moved with the facts each step needs; their author and the branch supervisors only.
import { html } from '../lib/html.js';
import { useFocusHeading } from './ui.js';

/** @param {any} _props */
export function NewReport(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>NewReport</h1></main>`;
}

/** @param {any} _props */
export function Report(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>Report</h1></main>`;
}

