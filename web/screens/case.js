// A case file: summary, team, notes, consents, follow-ups, referrals, reports.
import { html } from '../lib/html.js';
import { useFocusHeading } from './ui.js';

/** @param {any} _props */
export function CaseFile(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>CaseFile</h1></main>`;
}

/** @param {any} _props */
export function OpenCase(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>OpenCase</h1></main>`;
}

