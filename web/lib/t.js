// Looks up the catalogue (strings/en.js) and fills in `{name}` placeholders.
import en from '../strings/en.js';

/** @typedef {keyof typeof en} Key */

/**
 * @param {Key | string} key
 * @param {Record<string, string | number>} [vars]
 * @returns {string}
 */
export function t(key, vars = {}) {
  const text = /** @type {Record<string, string>} */ (en)[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** @param {string} iso */
export function timeOf(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
/** @param {string} iso */
export function dayOf(iso) {
  return new Date(iso).toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' });
}
