// The access log: the trail's events, filtered by who (the staff directory),
// their role and branch at the time, the patron, the kind of record and the
// record, the action, the outcome, the purpose of use, break-glass and the
// time, oldest first, a page at a time ("Show more"). The events shown can be
// saved as CSV in the layout of the server's export.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { csvOf, saveText } from '../lib/download.js';
import { ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';
import {
  ACTIONS, OUTCOMES, PURPOSES, RECORD_TYPES, ROLES, UUID,
  EventTable, LoadNotice, ShowMore, actionLabel, isoOf, loadDirectory, localOf, outcomeLabel, purposeLabel, roleLabel, typeLabel, useLoad, usePaged,
} from './audit-common.js';

/** @typedef {import('./audit-common.js').AuditEvent} AuditEvent */
/** @typedef {import('./ui.js').FieldError} FieldError */
/**
 * The form's fields, as typed.
 * @typedef {{actor: string, role: string, branch: string, patron: string, type: string, record: string,
 *   action: string, outcome: string, purpose: string, bg: boolean, from: string, to: string}} Draft
 */

/** @type {Draft} */
const EMPTY = { actor: '', role: '', branch: '', patron: '', type: '', record: '', action: '', outcome: '', purpose: '', bg: false, from: '', to: '' };

/**
 * The filters a route brings (`#/audit/patron/ID/actor/ID/...`, see `logLink`).
 * @param {string[]} rest the route after `audit`
 * @returns {Draft}
 */
export function draftOf(rest) {
  /** @type {Record<string, string>} */
  const p = {};
  for (let i = 0; i + 1 < rest.length; i += 2) {
    try {
      p[rest[i]] = decodeURIComponent(rest[i + 1]);
    } catch {
      p[rest[i]] = '';
    }
  }
  const pick = (/** @type {string} */ k, /** @type {string[]} */ allowed) => (allowed.includes(p[k]) ? p[k] : '');
  const id = (/** @type {string} */ k) => (UUID.test(p[k] ?? '') ? p[k].toLowerCase() : '');
  return {
    actor: id('actor'),
    role: pick('role', ROLES),
    branch: id('branch'),
    patron: id('patron'),
    type: pick('type', RECORD_TYPES),
    record: id('record'),
    action: pick('action', ACTIONS),
    outcome: pick('outcome', OUTCOMES),
    purpose: p.purpose ?? '',
    bg: p.bg === '1',
    from: localOf(p.from),
    to: localOf(p.to),
  };
}

/**
 * The query of a checked draft (times as RFC 3339). Times from a route keep
 * their exact instant rather than the minute the form shows.
 * @param {Draft} d
 * @param {{from?: string, to?: string}} exact
 */
function queryOf(d, exact = {}) {
  /** @type {Record<string, string | boolean>} */
  const q = {};
  if (d.actor) q.actor_id = d.actor;
  if (d.role) q.actor_role = d.role;
  if (d.branch) q.branch_id = d.branch;
  if (d.patron) q.patron_id = d.patron.trim().toLowerCase();
  if (d.type) q.record_type = d.type;
  if (d.record) q.record_id = d.record.trim().toLowerCase();
  if (d.action) q.action = d.action;
  if (d.outcome) q.outcome = d.outcome;
  if (d.purpose) q.purpose = d.purpose;
  if (d.bg) q.break_glass = true;
  const from = exact.from ?? isoOf(d.from);
  const to = exact.to ?? isoOf(d.to);
  if (from) q.from = from;
  if (to) q.to = to;
  return q;
}

/**
 * The times of a route as given (to the microsecond), beside the minute the form shows.
 * @param {string[]} rest
 */
function exactTimes(rest) {
  /** @type {{from?: string, to?: string}} */
  const x = {};
  for (let i = 0; i + 1 < rest.length; i += 2) {
    const k = rest[i];
    if (k !== 'from' && k !== 'to') continue;
    let v = '';
    try {
      v = decodeURIComponent(rest[i + 1]);
    } catch {
      continue;
    }
    if (isoOf(v)) x[k] = v;
  }
  return x;
}

/** @param {Draft} d @returns {FieldError[]} */
function check(d) {
  /** @type {FieldError[]} */
  const found = [];
  if (d.patron.trim() && !UUID.test(d.patron.trim())) found.push({ field: 'patron', message: t('audit.err.patronId') });
  if (d.record.trim() && !UUID.test(d.record.trim())) found.push({ field: 'record', message: t('audit.err.recordId') });
  if (d.from && !isoOf(d.from)) found.push({ field: 'from', message: t('audit.err.time') });
  if (d.to && !isoOf(d.to)) found.push({ field: 'to', message: t('audit.err.time') });
  const from = isoOf(d.from);
  const to = isoOf(d.to);
  if (from && to && from >= to) found.push({ field: 'to', message: t('audit.err.order') });
  return found;
}

const EXPORT_COLUMNS = ['seq', 'id', 'recorded_at', 'occurred_at', 'actor_id', 'actor_role', 'actor_branches', 'session_id', 'request_id', 'client_addr', 'action', 'record_type', 'record_id', 'patron_id', 'outcome', 'rule', 'purpose', 'fields', 'query', 'result_ids', 'prev_hash', 'hash'];

/** The events shown, as the server's export writes them (`/v1/audit/export?format=csv`). @param {AuditEvent[]} events */
export function eventsCsv(events) {
  return csvOf([
    EXPORT_COLUMNS,
    ...events.map((e) => [
      e.seq, e.id, e.recorded_at, e.occurred_at, e.actor_id, e.actor_role, JSON.stringify(e.actor_branches), e.session_id, e.request_id, e.client_addr,
      e.action, e.record_type, e.record_id, e.patron_id, e.outcome, e.rule, e.purpose, JSON.stringify(e.fields), e.query, JSON.stringify(e.result_ids), e.prev_hash, e.hash,
    ]),
  ]);
}

/** @param {{rest: string[]}} props the route after `audit` */
export function AccessLog({ rest }) {
  const heading = useFocusHeading();
  const fromRoute = draftOf(rest);
  const exact = exactTimes(rest);
  const [draft, setDraft] = useState(fromRoute);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [applied, setApplied] = useState(() => queryOf(fromRoute, exact));
  const dir = useLoad(loadDirectory, 'directory');
  const key = JSON.stringify(applied);
  const list = usePaged((cursor) => api('get', '/v1/audit/events', { query: /** @type {any} */ ({ ...applied, limit: 50, ...(cursor ? { cursor } : {}) }) }), key);

  /** @param {keyof Draft} k */
  const set = (k) => (/** @type {any} */ e) => setDraft({ ...draft, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });

  /** @param {Event} ev */
  function submit(ev) {
    ev.preventDefault();
    const found = check(draft);
    setErrors(found);
    if (found.length) return;
    // Times the route brought keep their exact instant while the form still shows them.
    setApplied(queryOf(draft, { from: draft.from && draft.from === fromRoute.from ? exact.from : undefined, to: draft.to && draft.to === fromRoute.to ? exact.to : undefined }));
  }
  function clear() {
    setDraft(EMPTY);
    setErrors([]);
    setApplied({});
  }

  const labels = { patron: t('audit.f.patron'), record: t('audit.f.record'), from: t('audit.f.from'), to: t('audit.f.to') };
  const cls = (/** @type {string} */ f) => 'field' + (errorFor(errors, f) ? ' has-error' : '');
  const described = (/** @type {string} */ f, /** @type {string} */ hint = '') => [errorFor(errors, f) ? `log-${f}-error` : '', hint].filter(Boolean).join(' ') || undefined;
  const staff = dir.data?.staffList ?? [];
  const branches = dir.data?.branchList ?? [];
  /** @param {keyof Draft} k @param {string} labelKey @param {string[]} values @param {(v: string) => string} show @param {string} anyKey */
  const select = (k, labelKey, values, show, anyKey) => html`<div class="field">
    <label for=${'log-' + k}>${t(labelKey)}</label>
    <select id=${'log-' + k} value=${/** @type {string} */ (draft[k])} onChange=${set(k)}>
      <option value="">${t(anyKey)}</option>
      ${values.map((v) => html`<option value=${v}>${show(v)}</option>`)}
    </select>
  </div>`;

  const shownCount = list.items.length;
  return html`<main id="main" class="audit audit-log">
    <h1 tabindex="-1" ref=${heading}>${t('audit.log.title')}</h1>
    <p class="lead">${t('audit.log.lead')}</p>
    <${ErrorSummary} errors=${errors} prefix="log" labels=${labels} />
    <form class="audit-filters" onSubmit=${submit} novalidate aria-labelledby="log-filters-title" data-testid="log-filters">
      <h2 id="log-filters-title">${t('audit.log.filters')}</h2>
      <div class="filter-grid">
        <div class="field">
          <label for="log-actor">${t('audit.f.actor')}</label>
          <select id="log-actor" value=${draft.actor} onChange=${set('actor')} aria-describedby=${dir.state === 'ready' ? undefined : 'log-actor-hint'}>
            <option value="">${t('audit.f.anyone')}</option>
            ${draft.actor && !dir.data?.staff.has(draft.actor) && html`<option value=${draft.actor}>${draft.actor}</option>`}
            ${staff.map((s) => html`<option value=${s.id}>${t('audit.f.staffOption', { name: s.display_name, username: s.username, role: roleLabel(s.role) })}</option>`)}
          </select>
          ${dir.state !== 'ready' && html`<p class="hint" id="log-actor-hint">${dir.state === 'loading' ? t('audit.f.staffLoading') : t('audit.f.staffMissing')}</p>`}
        </div>
        ${select('role', 'audit.f.role', ROLES, roleLabel, 'audit.f.anyRole')}
        <div class="field">
          <label for="log-branch">${t('audit.f.branch')}</label>
          <select id="log-branch" value=${draft.branch} onChange=${set('branch')}>
            <option value="">${t('audit.f.anyBranch')}</option>
            ${draft.branch && !dir.data?.branches.has(draft.branch) && html`<option value=${draft.branch}>${draft.branch}</option>`}
            ${branches.map((b) => html`<option value=${b.id}>${b.name}</option>`)}
          </select>
        </div>
        <div class=${cls('patron')}>
          <label for="log-patron">${t('audit.f.patron')}</label>
          <p class="hint" id="log-patron-hint">${t('audit.f.patronHint')}</p>
          <${FieldMessage} id="log-patron" message=${errorFor(errors, 'patron')} />
          <input id="log-patron" autocomplete="off" spellcheck=${false} value=${draft.patron} onInput=${set('patron')} aria-describedby=${described('patron', 'log-patron-hint')} />
        </div>
        ${select('type', 'audit.f.type', RECORD_TYPES, typeLabel, 'audit.f.anyType')}
        <div class=${cls('record')}>
          <label for="log-record">${t('audit.f.record')}</label>
          <p class="hint" id="log-record-hint">${t('audit.f.recordHint')}</p>
          <${FieldMessage} id="log-record" message=${errorFor(errors, 'record')} />
          <input id="log-record" autocomplete="off" spellcheck=${false} value=${draft.record} onInput=${set('record')} aria-describedby=${described('record', 'log-record-hint')} />
        </div>
        ${select('action', 'audit.f.action', ACTIONS, actionLabel, 'audit.f.anyAction')}
        ${select('outcome', 'audit.f.outcome', OUTCOMES, outcomeLabel, 'audit.f.anyOutcome')}
        ${select('purpose', 'audit.f.purpose', draft.purpose && !PURPOSES.includes(draft.purpose) ? [...PURPOSES, draft.purpose] : PURPOSES, purposeLabel, 'audit.f.anyPurpose')}
        <div class=${cls('from')}>
          <label for="log-from">${t('audit.f.from')}</label>
          <${FieldMessage} id="log-from" message=${errorFor(errors, 'from')} />
          <input id="log-from" type="datetime-local" value=${draft.from} onInput=${set('from')} aria-describedby=${described('from')} />
        </div>
        <div class=${cls('to')}>
          <label for="log-to">${t('audit.f.to')}</label>
          <${FieldMessage} id="log-to" message=${errorFor(errors, 'to')} />
          <input id="log-to" type="datetime-local" value=${draft.to} onInput=${set('to')} aria-describedby=${described('to')} />
        </div>
        <div class="field check-field">
          <label class="check"><input id="log-bg" type="checkbox" checked=${draft.bg} onChange=${set('bg')} /><span>${t('audit.f.breakGlass')}</span></label>
        </div>
      </div>
      <div class="actions">
        <button class="primary" type="submit">${t('audit.log.show')}</button>
        <button class="secondary" type="button" onClick=${clear}>${t('audit.log.clear')}</button>
      </div>
    </form>

    <section aria-labelledby="log-results-title" class="audit-results">
      <div class="results-head">
        <h2 id="log-results-title">${t('audit.log.results')}</h2>
        ${shownCount > 0 && html`<button type="button" class="secondary small" onClick=${() => saveText(`audit-events-${new Date().toISOString().slice(0, 10)}.csv`, eventsCsv(list.items))}>${t('audit.log.csv')}</button>`}
      </div>
      <${LoadNotice} state=${list.state} retry=${list.retry} />
      ${list.state === 'ready' && html`<p role="status" class="showing" data-testid="log-count">${shownCount === 0 ? t('audit.log.none') : list.next ? t('audit.log.countMore', { n: shownCount }) : shownCount === 1 ? t('audit.log.countOne') : t('audit.log.count', { n: shownCount })}</p>`}
      ${shownCount > 0 && html`<${EventTable} events=${list.items} dir=${dir.data} caption=${t('audit.log.caption')} />`}
      <${ShowMore} next=${list.next} moreState=${list.moreState} more=${list.more} />
    </section>
  </main>`;
}
