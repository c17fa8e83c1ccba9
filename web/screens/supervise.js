// Supervisors: overdue referrals of their branches, reassignment, break-glass, expiring certifications and training coverage.
import { html } from '../lib/html.js';
import { useFocusHeading } from './ui.js';

/** @param {any} _props */
export function Supervise(_props) {
  const heading = useFocusHeading();
  return html`<main id="main"><h1 tabindex="-1" ref=${heading}>Supervise</h1></main>`;
}

