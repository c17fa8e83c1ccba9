// Shared pieces: the error summary (GOV.UK pattern) and field helpers.
import { useEffect, useRef } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';

/** @typedef {{field: string, message: string}} FieldError */

/**
 * The form field a problem's field pointer belongs to (`services_given/1` → `services_given`).
 * @param {string} field
 */
export const fieldOf = (field) => field.split('/')[0];

/**
 * @param {FieldError[]} errors
 * @param {string} field
 */
export function errorFor(errors, field) {
  return errors.filter((e) => fieldOf(e.field) === field).map((e) => e.message).join('; ');
}

/**
 * A summary at the top of the form; takes focus when shown; its links move focus to the field.
 * @param {{errors: FieldError[], prefix: string, labels?: Record<string, string>, title?: string}} props
 */
export function ErrorSummary({ errors, prefix, labels = {}, title }) {
  const ref = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => {
    if (errors.length) ref.current?.focus();
  }, [errors]);
  if (!errors.length) return null;
  return html`<div class="error-summary" role="alert" tabindex="-1" ref=${ref} aria-labelledby=${prefix + '-errors-title'}>
    <h2 id=${prefix + '-errors-title'}>${title ?? t('errors.title')}</h2>
    <ul>
      ${errors.map((e) => {
        const id = `${prefix}-${fieldOf(e.field)}`;
        const label = labels[fieldOf(e.field)];
        return html`<li><a href=${'#' + id} onClick=${(/** @type {Event} */ ev) => {
          ev.preventDefault();
          const el = document.getElementById(id);
          el?.focus();
          el?.scrollIntoView({ block: 'center' });
        }}>${label ? `${label}: ${e.message}` : e.message}</a></li>`;
      })}
    </ul>
  </div>`;
}

/**
 * @param {{id: string, message: string}} props
 */
export function FieldMessage({ id, message }) {
  if (!message) return null;
  return html`<p class="field-error" id=${id + '-error'}><span class="visually-hidden">${t('errors.prefix')} </span>${message}</p>`;
}

/**
 * A state badge for a record or an outbox entry.
 * @param {{state: string}} props
 */
export function Badge({ state }) {
  return html`<span class=${'badge badge-' + state}>${t('state.' + state)}</span>`;
}

/**
 * Moves focus to the main heading when a screen opens (for screen readers and keyboards).
 * @returns {import('../vendor/preact.mjs').RefObject<HTMLHeadingElement | null>}
 */
export function useFocusHeading() {
  const ref = useRef(/** @type {HTMLHeadingElement | null} */ (null));
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return ref;
}
