// What the safety screens share: loading from the server (online only,
// nothing kept on the device), the directory (branches and staff names,
// held in memory for the signed-in account only), the enums of the spec,
// dates, choice groups, and the server's refusals as field messages.
import { useEffect, useRef, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api, ApiError } from '../lib/api.js';
import { session } from '../lib/session.js';
import { FieldMessage, errorFor } from './ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {'loading' | 'ready' | 'offline' | 'failed' | 'missing'} LoadState */

export const CATEGORIES = ['rule_violation', 'disturbance', 'intoxication', 'medical', 'theft', 'violence', 'unattended_child', 'other'];
export const ACTIONS = ['none', 'warning', 'asked_to_leave', 'suspension', 'police_called', 'medical_called'];
export const RESOLUTIONS = ['staff_de_escalation', 'social_work_support', 'security', 'police', 'medical', 'person_left'];
export const PARTS = ['lead', 'assisting', 'support', 'witness'];
export const SHAREABLE = ['occurred_at', 'category', 'description', 'action_taken', 'persons_involved'];
export const URGENCIES = ['routine', 'urgent', 'emergency'];
export const NOTIFIED = ['in_person', 'letter', 'email', 'phone', 'not_notified'];
export const APPEALS = ['none', 'requested', 'upheld', 'modified', 'overturned'];
export const SUSPENSION_STATUSES = ['scheduled', 'active', 'ended', 'lifted'];
/** The roles that may be named as responders (front-line accounts). */
export const FRONT_LINE = ['staff', 'security', 'social_worker', 'supervisor', 'peer'];

/** The signed-in account of this app (a desk role: nothing of it is kept). */
export function me() {
  return /** @type {Schemas['StaffOut']} */ (session.other);
}

/** Whether the browser says it is online, kept current. */
export function useOnline() {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(navigator.onLine);
    addEventListener('online', on);
    addEventListener('offline', on);
    return () => {
      removeEventListener('online', on);
      removeEventListener('offline', on);
    };
  }, []);
  return online;
}

/**
 * Data only the server has, asked when the screen opens (or `key` changes)
 * and again when the network comes back. Held in the screen's state only.
 * @template T
 * @param {() => Promise<T>} load
 * @param {string} key
 * @returns {{state: LoadState, data: T | undefined, retry: () => void}}
 */
export function useLoad(load, key) {
  const online = useOnline();
  const [attempt, setAttempt] = useState(0);
  const [s, set] = useState(/** @type {{state: LoadState, data: T | undefined, key: string}} */ ({ state: online ? 'loading' : 'offline', data: undefined, key }));
  useEffect(() => {
    if (!online) {
      set((prev) => (prev.key === key && prev.state === 'ready' ? prev : { state: 'offline', data: undefined, key }));
      return;
    }
    let live = true;
    set((prev) => (prev.key === key && prev.state === 'ready' ? prev : { state: 'loading', data: undefined, key }));
    load().then(
      (data) => { if (live) set({ state: 'ready', data, key }); },
      (e) => {
        if (!live) return;
        const state = e instanceof ApiError ? (e.offline ? 'offline' : e.status === 404 || e.status === 403 ? 'missing' : 'failed') : 'failed';
        set({ state, data: undefined, key });
      },
    );
    return () => { live = false; };
  }, [online, key, attempt]);
  const same = s.key === key;
  return { state: same ? s.state : 'loading', data: same ? s.data : undefined, retry: () => setAttempt((n) => n + 1) };
}

/**
 * What a screen shows while its data is not there: loading, needs the
 * network (with a retry when the browser thinks it is online), failed, not found.
 * @param {{state: LoadState, retry: () => void}} props
 */
export function LoadNotice({ state, retry }) {
  if (state === 'loading') return html`<p class="muted" role="status">${t('safety.loading')}</p>`;
  if (state === 'offline') {
    // Offline as the browser says: the screen's OfflineNote says so. Online
    // but the server cannot be reached: said here, with a retry.
    if (!navigator.onLine) return null;
    return html`<div class="notice needs-network" role="status" data-testid="unreachable"><p>${t('safety.unreachable')}</p>
      <button type="button" class="secondary small" onClick=${retry}>${t('safety.retry')}</button></div>`;
  }
  if (state === 'missing') return html`<div class="notice" role="alert"><p>${t('safety.missing')}</p></div>`;
  if (state === 'failed') {
    return html`<div class="notice" role="alert"><p>${t('safety.failed')}</p>
      <button type="button" class="secondary small" onClick=${retry}>${t('safety.retry')}</button></div>`;
  }
  return null;
}

/** The "needs the network" line every screen shows while offline (what it shows is not kept). */
export function OfflineNote() {
  const online = useOnline();
  if (online) return null;
  return html`<div class="notice needs-network" role="status" data-testid="needs-network"><p>${t('safety.needsNetwork')}</p></div>`;
}

/**
 * @typedef {{branches: Schemas['BranchOut'][], staff: Schemas['StaffOut'][]}} Directory
 */
/** @type {{owner: string, promise: Promise<Directory>} | null} */
let held = null;

/**
 * Branches and staff names (the directory every role reads), asked once per
 * signed-in account and kept in memory only; forgotten when another signs in.
 * @returns {Promise<Directory>}
 */
export function directory() {
  const owner = me()?.id ?? '';
  if (held && held.owner === owner) return held.promise;
  const promise = (async () => {
    const [branches, staff] = await Promise.all([api('get', '/v1/branches'), allStaff()]);
    return { branches: branches.items, staff };
  })();
  held = { owner, promise };
  promise.catch(() => { if (held?.promise === promise) held = null; });
  return promise;
}

async function allStaff() {
  /** @type {Schemas['StaffOut'][]} */
  const out = [];
  /** @type {string | undefined} */
  let cursor;
  do {
    /** @type {{limit: number, cursor?: string}} */
    const query = { limit: 200 };
    if (cursor) query.cursor = cursor;
    const page = await api('get', '/v1/staff', { query });
    out.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

/** @param {Directory | undefined} dir @param {string | undefined} id */
export function branchName(dir, id) {
  if (!id) return '';
  return dir?.branches.find((b) => b.id === id)?.name ?? t('safety.unknownBranch');
}
/** @param {Directory | undefined} dir @param {string | undefined} id */
export function staffName(dir, id) {
  if (!id) return '';
  if (id === me()?.id) return t('safety.you');
  return dir?.staff.find((s) => s.id === id)?.display_name ?? t('safety.unknownStaff');
}

/** The branches the caller may act for: security any, staff their own. @param {Directory | undefined} dir */
export function myBranches(dir) {
  const all = dir?.branches ?? [];
  return me()?.role === 'security' ? all : all.filter((b) => me()?.branches.includes(b.id));
}

/** A time for reading: day, month, year and the time. @param {string | undefined} iso */
export function when(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString([], { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}
/** A date for reading. @param {string | undefined} iso */
export function day(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });
}
/** A `datetime-local` input's value for a moment. @param {Date} d */
export function localInput(d) {
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
/** A `datetime-local` (or `date`) input's value as RFC 3339, '' when not a time. @param {string} v */
export function fromLocal(v) {
  if (!v) return '';
  const d = new Date(/T/.test(v) ? v : v + 'T00:00');
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
/** The `If-Match` of a record's version. @param {number} version */
export const ifMatch = (version) => ({ 'If-Match': `"${version}"` });

/** The characters of a text as the server counts them (code points), trimmed. */
export const lengthOf = (/** @type {string} */ s) => [...s.trim()].length;

/** A message for the next screen (in memory), e.g. "Incident reported". */
let flash = '';
/** @param {string} message */
export function setFlash(message) {
  flash = message;
}
/** Takes the message left for this screen (once). */
export function useFlash() {
  const [m] = useState(() => {
    const f = flash;
    flash = '';
    return f;
  });
  return m;
}

/** Goes to a route of the app. @param {string} route e.g. `incident/ID` */
export function go(route) {
  location.hash = '#/' + route;
}

/**
 * The server's refusal as the form's field messages.
 * @param {unknown} e
 * @param {string} first the field a message without a field goes to
 * @param {(field: string, message: string) => FieldError | null} [mapField] a field pointer (`responders/0/part`) as the form's field and message
 * @returns {FieldError[]}
 */
export function refusal(e, first, mapField) {
  if (!(e instanceof ApiError)) return [{ field: first, message: t('safety.err.server') }];
  if (e.offline) return [{ field: first, message: t('safety.err.offline') }];
  const p = e.problem;
  const fields = (p.errors ?? []).map((x) => mapField?.(x.field, x.message) ?? { field: x.field, message: x.message });
  if (e.status === 412) return [{ field: first, message: t('safety.err.changed') }];
  if (e.status === 403) return [{ field: first, message: t('safety.err.forbidden') }];
  if (e.status === 404) return [{ field: first, message: t('safety.err.notFound') }];
  if (fields.length) return fields;
  if (e.status === 409) return [{ field: first, message: t('safety.err.conflict') }];
  return [{ field: first, message: t('safety.err.server') }];
}

/**
 * A group of radio buttons (large targets), with a legend, hint and error.
 * @param {{
 *   id: string, field: string, legend: string, hint?: string, options: string[],
 *   label: (v: string) => string, value: string, set: (v: string) => void,
 *   errors: FieldError[], name?: string, optional?: string, disabled?: (v: string) => boolean,
 * }} p
 */
export function Choice({ id, field, legend, hint, options, label, value, set, errors, name, optional, disabled }) {
  const message = errorFor(errors, field);
  const described = [hint ? id + '-hint' : '', message ? id + '-error' : ''].filter(Boolean).join(' ') || undefined;
  return html`<fieldset class=${'field choice' + (message ? ' has-error' : '')} id=${id} tabindex="-1" aria-describedby=${described}>
    <legend>${legend}</legend>
    ${hint && html`<p class="hint" id=${id + '-hint'}>${hint}</p>`}
    <${FieldMessage} id=${id} message=${message} />
    <div class="toggles">
      ${optional !== undefined && html`<label class="toggle"><input type="radio" name=${name ?? id} value="" checked=${value === ''}
        onChange=${() => set('')} /><span>${optional}</span></label>`}
      ${options.map((v) => html`<label class=${'toggle' + (disabled?.(v) ? ' disabled' : '')}><input type="radio" name=${name ?? id} value=${v} checked=${value === v}
        disabled=${disabled?.(v) ?? false} onChange=${() => set(v)} /><span>${label(v)}</span></label>`)}
    </div>
  </fieldset>`;
}

/**
 * A text input or text area with its label, hint and error.
 * @param {{id: string, field: string, label: string, hint?: string, value: string, set: (v: string) => void,
 *   errors: FieldError[], multi?: boolean, rows?: number, type?: string, extra?: Record<string, any>}} p
 */
export function Text({ id, field, label, hint, value, set, errors, multi = false, rows = 4, type = 'text', extra = {} }) {
  const message = errorFor(errors, field);
  const described = [hint ? id + '-hint' : '', message ? id + '-error' : ''].filter(Boolean).join(' ') || undefined;
  const input = (/** @type {any} */ e) => set(e.currentTarget.value);
  return html`<div class=${'field' + (message ? ' has-error' : '')}>
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${id + '-hint'}>${hint}</p>`}
    <${FieldMessage} id=${id} message=${message} />
    ${multi
      ? html`<textarea id=${id} rows=${rows} value=${value} aria-describedby=${described} aria-invalid=${message ? 'true' : undefined} onInput=${input} ...${extra}></textarea>`
      : html`<input id=${id} type=${type} value=${value} aria-describedby=${described} aria-invalid=${message ? 'true' : undefined} onInput=${input} ...${extra} />`}
  </div>`;
}

/**
 * A select with its label, hint and error.
 * @param {{id: string, field: string, label: string, hint?: string, value: string, set: (v: string) => void,
 *   errors: FieldError[], options: [string, string][], empty?: string}} p
 */
export function Select({ id, field, label, hint, value, set, errors, options, empty }) {
  const message = errorFor(errors, field);
  const described = [hint ? id + '-hint' : '', message ? id + '-error' : ''].filter(Boolean).join(' ') || undefined;
  return html`<div class=${'field' + (message ? ' has-error' : '')}>
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${id + '-hint'}>${hint}</p>`}
    <${FieldMessage} id=${id} message=${message} />
    <select id=${id} value=${value} aria-describedby=${described} aria-invalid=${message ? 'true' : undefined} onChange=${(/** @type {any} */ e) => set(e.currentTarget.value)}>
      ${empty !== undefined && html`<option value="">${empty}</option>`}
      ${options.map(([v, text]) => html`<option value=${v} selected=${v === value}>${text}</option>`)}
    </select>
  </div>`;
}

/**
 * Moves focus to an element when `on` becomes true (a confirmation, a result count).
 * @param {boolean} on
 */
export function useFocusWhen(on) {
  const ref = useRef(/** @type {HTMLElement | null} */ (null));
  useEffect(() => {
    if (on) ref.current?.focus();
  }, [on]);
  return ref;
}

/** A one-line preview of a long text. @param {string} s @param {number} [n] */
export function excerpt(s, n = 160) {
  const chars = [...s.replace(/\s+/g, ' ').trim()];
  return chars.length > n ? chars.slice(0, n - 1).join('') + '…' : chars.join('');
}

/**
 * Recent incidents the caller can read (of one branch, or all), for linking
 * one to a support request or a suspension.
 * @param {string} branchId '' for any branch
 */
export async function recentIncidents(branchId) {
  /** @type {{limit: number, branch_id?: string}} */
  const query = { limit: 25 };
  if (branchId) query.branch_id = branchId;
  return (await api('get', '/v1/incidents', { query })).items;
}

/** How an incident reads in a list or a picker: when, what, where. @param {Schemas['IncidentOut']} i @param {Directory | undefined} dir */
export function incidentLabel(i, dir) {
  return t('incident.label', { when: when(i.occurred_at), category: t('incident.category.' + i.category), branch: branchName(dir, i.branch_id) });
}
