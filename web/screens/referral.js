// A referral: made from a case (service, needs, what is shared, the consent gate), then followed through its lifecycle.
import { html } from '../lib/html.js';
import { useFocusHeading } from './ui.js';

/** @param {any} _props */
export function NewReferral(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>NewReferral</h1></main>`;
}

/** @param {any} _props */
export function Referral(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>Referral</h1></main>`;
}

