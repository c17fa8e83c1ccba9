// Program statistics as charts with the suppression kept visible, and CSV beside each.
import { html } from '../lib/html.js';
import { useFocusHeading } from './ui.js';

/** @param {any} _props */
export function Statistics(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>Statistics</h1></main>`;
}

