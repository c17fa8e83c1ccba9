// Shared pieces of the admin screens: loading from the
// server (online only: nothing is kept on the device), paging with the API's
// cursor, the server's refusals as field errors, a record that moved on (412)
// with its "reload", form fields, and one-time passwords.
import { useEffect, useRef, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api, ApiError } from '../lib/api.js';
import { FieldMessage, errorFor, fieldOf } from './ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {'loading' | 'ready' | 'offline' | 'failed' | 'missing'} LoadState */

/** The roles, in the order they are offered. */
export const ROLES = /** @type {const} */ (['peer', 'social_worker', 'supervisor', 'staff', 'security', 'auditor', 'admin']);

/** The needs taxonomy (a directory entry's categories). */
export const NEEDS = /** @type {const} */ ([
  'housing', 'food', 'health', 'mental_health', 'substance_use', 'benefits',
  'employment', 'documents', 'legal', 'safety', 'child_and_family', 'other',
]);

/** Whether the browser says it is online, kept up to date. */
export function useOnline() {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(navigator.onLine);
    addEventListener('online', on);
    addEventListener('offline', on);
    return () => { removeEventListener('online', on); removeEventListener('offline', on); };
  }, []);
  return online;
}

/** @param {unknown} e @returns {LoadState} */
function failure(e) {
  if (e instanceof ApiError && e.offline) return 'offline';
  if (e instanceof ApiError && e.status === 404) return 'missing';
  return 'failed';
}

/**
 * Data only the server has, loaded when the screen opens (or `key` changes)
 * and again when the network comes back after it could not be loaded. Held
 * in memory only.
 * @template T
 * @param {() => Promise<T>} load
 * @param {string} key
 * @returns {{state: LoadState, data: T | undefined, retry: () => void, replace: (data: T) => void}}
 */
export function useLoad(load, key) {
  const online = useOnline();
  const [s, set] = useState(/** @type {{state: LoadState, data: T | undefined, key: string}} */ ({ state: 'loading', data: undefined, key }));
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    set((prev) => (prev.key === key ? { ...prev, state: prev.data === undefined ? 'loading' : prev.state } : { state: 'loading', data: undefined, key }));
    load().then(
      (data) => { if (live) set({ state: 'ready', data, key }); },
      (e) => { if (live) set((prev) => ({ state: failure(e), data: prev.key === key ? prev.data : undefined, key })); },
    );
    return () => { live = false; };
  }, [key, attempt]);
  // Back online after a failed load: try again by itself.
  useEffect(() => {
    if (online && s.state === 'offline') setAttempt((n) => n + 1);
  }, [online]);
  const mine = s.key === key;
  return {
    state: mine ? s.state : 'loading',
    data: mine ? s.data : undefined,
    retry: () => setAttempt((n) => n + 1),
    replace: (data) => set({ state: 'ready', data, key }),
  };
}

/**
 * A list the API gives a page at a time: the first page, then "show more"
 * with the cursor of the last page (the pages are appended).
 * @template T
 * @param {(cursor: string | undefined) => Promise<{items: T[], next_cursor?: string}>} loadPage
 * @param {string} key what is asked (a new key starts again at the first page)
 */
export function usePaged(loadPage, key) {
  const first = useLoad(() => loadPage(undefined), key);
  const [more, setMore] = useState(/** @type {{key: string, items: T[], next?: string, busy: boolean, error: string}} */ ({ key, items: [], busy: false, error: '' }));
  const extra = more.key === key ? more : { key, items: /** @type {T[]} */ ([]), next: undefined, busy: false, error: '' };
  const next = extra.items.length || extra.next !== undefined ? extra.next : first.data?.next_cursor;
  async function showMore() {
    if (!next || extra.busy) return;
    setMore({ ...extra, busy: true, error: '' });
    try {
      const page = await loadPage(next);
      setMore({ key, items: [...extra.items, ...page.items], next: page.next_cursor ?? '', busy: false, error: '' });
    } catch (e) {
      setMore({ ...extra, busy: false, error: e instanceof ApiError && e.offline ? t('admin.err.offline') : t('admin.err.server') });
    }
  }
  const items = first.data ? [...first.data.items, ...extra.items] : [];
  return {
    state: first.state,
    retry: () => { setMore({ key, items: [], busy: false, error: '' }); first.retry(); },
    items,
    hasMore: Boolean(next),
    busy: extra.busy,
    error: extra.error,
    showMore,
  };
}

/** @param {{paged: {hasMore: boolean, busy: boolean, error: string, showMore: () => void, items: unknown[]}, label: string}} props */
export function ShowMore({ paged, label }) {
  return html`<div class="show-more">
    <p class="muted" role="status">${paged.items.length === 1 ? t('admin.list.shownOne') : t('admin.list.shown', { n: paged.items.length })}${paged.hasMore ? ' ' + t('admin.list.thereIsMore') : ''}</p>
    ${paged.error && html`<p class="field-error" role="alert">${paged.error}</p>`}
    ${paged.hasMore && html`<button type="button" class="secondary" onClick=${paged.showMore} disabled=${paged.busy}>${paged.busy ? t('admin.list.loading') : label}</button>`}
  </div>`;
}

/** @param {{state: LoadState, retry: () => void}} props */
export function LoadNotice({ state, retry }) {
  if (state === 'loading') return html`<p class="muted" role="status">${t('admin.loading')}</p>`;
  if (state === 'offline') {
    return html`<div class="notice needs-network" role="status" data-testid="needs-network"><p>${t('admin.needsNetwork')}</p>
      <button type="button" class="secondary small" onClick=${retry}>${t('admin.retry')}</button></div>`;
  }
  if (state === 'missing') return html`<div class="notice" role="alert"><p>${t('admin.missing')}</p></div>`;
  if (state === 'failed') {
    return html`<div class="notice" role="alert"><p>${t('admin.failed')}</p>
      <button type="button" class="secondary small" onClick=${retry}>${t('admin.retry')}</button></div>`;
  }
  return null;
}

/** A notice that this screen needs the network, while the browser says it is offline. */
export function OfflineNotice() {
  const online = useOnline();
  if (online) return null;
  return html`<div class="notice needs-network" role="status"><p>${t('admin.offlineNow')}</p></div>`;
}

/** @param {unknown} e the record moved on since it was read: 412 */
export const isStale = (e) => e instanceof ApiError && e.status === 412;

/**
 * The server's refusal as the form's field errors: the problem's `errors`
 * (one message a field), else a message of ours on `field`.
 * @param {unknown} e
 * @param {string} field where a refusal that names no field is shown
 * @param {{conflict?: string, conflictField?: string}} [more] a 409's message, and its field
 * @returns {FieldError[]}
 */
export function refusal(e, field, more = {}) {
  if (!(e instanceof ApiError)) return [{ field, message: t('admin.err.server') }];
  if (e.offline) return [{ field, message: t('admin.err.offline') }];
  if (e.status === 403) return [{ field, message: t('admin.err.forbidden') }];
  if (e.status === 404) return [{ field, message: t('admin.err.missing') }];
  if (e.status === 409) return [{ field: more.conflictField ?? field, message: more.conflict ?? t('admin.err.exists') }];
  if (e.status === 429) return [{ field, message: t('admin.err.busy') }];
  /** @type {FieldError[]} */
  const errors = [];
  for (const x of e.problem.errors ?? []) {
    if (!errors.some((y) => fieldOf(y.field) === fieldOf(x.field))) errors.push({ field: fieldOf(x.field), message: x.message });
  }
  if (errors.length) return errors;
  return [{ field, message: t('admin.err.server') }];
}

/**
 * The record moved on: says so, and offers to load what is there now.
 * @param {{what: string, why?: string, onReload: () => void}} props
 */
export function StaleNotice({ what, why, onReload }) {
  const ref = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => { ref.current?.focus(); }, []);
  return html`<div class="notice stale" role="alert" tabindex="-1" ref=${ref} data-testid="stale">
    <h2>${t('admin.stale.title')}</h2>
    <p>${t('admin.stale.body', { what })}</p>
    ${why && html`<p>${why}</p>`}
    <button type="button" class="primary" onClick=${onReload}>${t('admin.stale.reload')}</button>
  </div>`;
}

/**
 * A message that something was saved; takes focus so that it is heard.
 * @param {{message: string, testid?: string}} props
 */
export function Saved({ message, testid = 'saved' }) {
  const ref = useRef(/** @type {HTMLParagraphElement | null} */ (null));
  useEffect(() => { ref.current?.focus(); }, [message]);
  if (!message) return null;
  return html`<p class="confirmation" role="status" tabindex="-1" ref=${ref} data-testid=${testid}>${message}</p>`;
}

/** The describedby of a field: its hint and its error. */
const describedBy = (/** @type {string} */ id, /** @type {boolean} */ hint, /** @type {string} */ message) =>
  [hint ? id + '-hint' : '', message ? id + '-error' : ''].filter(Boolean).join(' ') || undefined;

/**
 * One text input (or text area) with its label, hint and error; its id is
 * `${prefix}-${field}`, which the error summary links to.
 * @param {{prefix: string, field: string, label: string, hint?: string, value: string, set: (v: string) => void,
 *   errors: FieldError[], type?: string, multi?: boolean, rows?: number, autocomplete?: string, inputMode?: string,
 *   spellcheck?: boolean, width?: string, disabled?: boolean, testid?: string}} p
 */
export function Text({ prefix, field, label, hint, value, set, errors, type = 'text', multi = false, rows = 4, autocomplete, inputMode, spellcheck, width, disabled, testid }) {
  const id = `${prefix}-${field}`;
  const message = errorFor(errors, field);
  const described = describedBy(id, Boolean(hint), message);
  const onInput = (/** @type {any} */ e) => set(e.currentTarget.value);
  return html`<div class=${'field' + (message ? ' has-error' : '')}>
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${id + '-hint'}>${hint}</p>`}
    <${FieldMessage} id=${id} message=${message} />
    ${multi
      ? html`<textarea id=${id} name=${field} rows=${rows} value=${value} aria-describedby=${described} aria-invalid=${message ? 'true' : undefined} disabled=${disabled} onInput=${onInput}></textarea>`
      : html`<input id=${id} name=${field} type=${type} class=${width ? 'width-' + width : undefined} value=${value} autocomplete=${autocomplete} inputmode=${inputMode}
          spellcheck=${spellcheck} aria-describedby=${described} aria-invalid=${message ? 'true' : undefined} disabled=${disabled} data-testid=${testid} onInput=${onInput} />`}
  </div>`;
}

/**
 * Radios (one value) or checkboxes (several) in a fieldset; the first
 * input's id is `${prefix}-${field}` (the error summary's link).
 * @param {{prefix: string, field: string, legend: string, hint?: string, options: {value: string, label: string, hint?: string}[],
 *   multiple?: boolean, value: string | string[], set: (v: any) => void, errors: FieldError[], disabled?: boolean, columns?: boolean}} p
 */
export function Choices({ prefix, field, legend, hint, options, multiple = false, value, set, errors, disabled, columns = false }) {
  const id = `${prefix}-${field}`;
  const message = errorFor(errors, field);
  const chosen = Array.isArray(value) ? value : [value];
  const change = (/** @type {string} */ v, /** @type {boolean} */ on) => {
    if (!multiple) return set(v);
    set(on ? [...chosen.filter((x) => x !== v), v] : chosen.filter((x) => x !== v));
  };
  return html`<fieldset class=${'field choices' + (message ? ' has-error' : '')} aria-describedby=${describedBy(id, Boolean(hint), message)}>
    <legend>${legend}</legend>
    ${hint && html`<p class="hint" id=${id + '-hint'}>${hint}</p>`}
    <${FieldMessage} id=${id} message=${message} />
    <div class=${'choice-list' + (columns ? ' choice-cols' : '')}>
      ${options.map((o, i) => {
        const oid = i === 0 ? id : `${id}-${i}`;
        return html`<div class="choice" key=${o.value}>
          <input id=${oid} type=${multiple ? 'checkbox' : 'radio'} name=${id} value=${o.value} checked=${chosen.includes(o.value)} disabled=${disabled}
            aria-describedby=${o.hint ? oid + '-hint' : undefined} onChange=${(/** @type {any} */ e) => change(o.value, e.currentTarget.checked)} />
          <label for=${oid}>${o.label}</label>
          ${o.hint && html`<p class="hint" id=${oid + '-hint'}>${o.hint}</p>`}
        </div>`;
      })}
    </div>
  </fieldset>`;
}

/**
 * One checkbox with its label (and hint).
 * @param {{prefix: string, field: string, label: string, hint?: string, checked: boolean, set: (v: boolean) => void, errors?: FieldError[], disabled?: boolean}} p
 */
export function Check({ prefix, field, label, hint, checked, set, errors = [], disabled }) {
  const id = `${prefix}-${field}`;
  const message = errorFor(errors, field);
  return html`<div class=${'field' + (message ? ' has-error' : '')}>
    <${FieldMessage} id=${id} message=${message} />
    <div class="choice">
      <input id=${id} type="checkbox" checked=${checked} disabled=${disabled} aria-describedby=${describedBy(id, Boolean(hint), message)}
        onChange=${(/** @type {any} */ e) => set(e.currentTarget.checked)} />
      <label for=${id}>${label}</label>
      ${hint && html`<p class="hint" id=${id + '-hint'}>${hint}</p>`}
    </div>
  </div>`;
}

// One-time passwords: letters and digits that are not mistaken for one
// another when read out or copied by hand (no i, l, o, 0, 1).
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const GROUPS = 5;
const GROUP = 4;

/**
 * A one-time password from the browser's cryptographic random source: five
 * groups of four characters joined by `-` (24 characters, about 99 bits).
 */
export function generatePassword() {
  /** @type {string[]} */
  const chars = [];
  const limit = 256 - (256 % ALPHABET.length); // no bias: bytes past the last whole round are drawn again
  while (chars.length < GROUPS * GROUP) {
    for (const b of crypto.getRandomValues(new Uint8Array(32))) {
      if (b < limit && chars.length < GROUPS * GROUP) chars.push(ALPHABET[b % ALPHABET.length]);
    }
  }
  /** @type {string[]} */
  const groups = [];
  for (let i = 0; i < GROUPS; i++) groups.push(chars.slice(i * GROUP, (i + 1) * GROUP).join(''));
  return groups.join('-');
}

/** The shortest password the server takes. */
export const MIN_PASSWORD = 12;

/**
 * The password field of an account: typed, or generated with the button.
 * @param {{prefix: string, value: string, set: (v: string) => void, errors: FieldError[], label: string, hint: string}} p
 */
export function PasswordField({ prefix, value, set, errors, label, hint }) {
  const id = `${prefix}-password`;
  const message = errorFor(errors, 'password');
  function generate() {
    set(generatePassword());
    // The field takes focus, so that the new password is read out.
    setTimeout(() => document.getElementById(id)?.focus(), 0);
  }
  return html`<div class=${'field one-time' + (message ? ' has-error' : '')}>
    <label for=${id}>${label}</label>
    <p class="hint" id=${id + '-hint'}>${hint}</p>
    <${FieldMessage} id=${id} message=${message} />
    <div class="password-row">
      <input id=${id} name="one-time-password" type="text" class="password-input" value=${value} autocomplete="off" autocapitalize="none" spellcheck=${false}
        aria-describedby=${describedBy(id, true, message)} aria-invalid=${message ? 'true' : undefined}
        onInput=${(/** @type {any} */ e) => set(e.currentTarget.value)} />
      <button type="button" class="secondary" onClick=${generate}>${t('admin.password.generate')}</button>
    </div>
  </div>`;
}

/**
 * A one-time password just set: shown this once, with a copy button and the
 * instruction to give it in person. Nothing of it is kept once the screen closes.
 * @param {{password: string, name: string, title: string}} p
 */
export function OneTimePassword({ password, name, title }) {
  const [copied, setCopied] = useState('');
  const ref = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => { ref.current?.focus(); }, []);
  async function copyIt() {
    try {
      await navigator.clipboard.writeText(password);
      setCopied(t('admin.password.copied'));
    } catch {
      // No clipboard (permission, an old browser): the text is selected for copying by hand.
      const range = document.createRange();
      const el = document.getElementById('one-time-password');
      if (el) {
        range.selectNodeContents(el);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
      }
      setCopied(t('admin.password.copyByHand'));
    }
  }
  return html`<div class="confirmation one-time-shown" role="region" aria-labelledby="one-time-title" tabindex="-1" ref=${ref} data-testid="one-time">
    <h2 id="one-time-title">${title}</h2>
    <p class="one-time-label">${t('admin.password.shownLabel')}</p>
    <p class="one-time-value"><code id="one-time-password" data-testid="one-time-password">${password}</code></p>
    <div class="actions">
      <button type="button" class="secondary" onClick=${copyIt}>${t('admin.password.copy')}</button>
      <span role="status" class="copied">${copied}</span>
    </div>
    <ul class="one-time-rules">
      <li>${t('admin.password.inPerson', { name })}</li>
      <li>${t('admin.password.once')}</li>
      <li>${t('admin.password.ownAtFirst')}</li>
    </ul>
  </div>`;
}

/** @param {string} iso */
export function dateTime(iso) {
  return new Date(iso).toLocaleString([], { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}
/** A calendar date (YYYY-MM-DD), shown in the local way. @param {string} day */
export function showDay(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });
}
/** Today as the device's calendar date (YYYY-MM-DD). */
export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/**
 * Every branch (the list is small and has no pages).
 * @returns {Promise<Schemas['BranchOut'][]>}
 */
export async function allBranches() {
  return (await api('get', '/v1/branches')).items;
}
