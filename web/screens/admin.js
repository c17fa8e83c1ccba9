// The admin screens (stub: menu and screens come next).
import { html } from '../lib/html.js';

/** @param {string} _role @returns {[string, string][]} */
export function menu(_role) {
  return [];
}

/** @param {string} _role @param {string[]} _parts */
export function screen(_role, _parts) {
  return _parts.length < 0 ? html`` : null;
}
