// The anomaly views: patterns worth a look over a period (the server's
// default: the last 30 days), each row with who, how often, first and last
// time and the events behind it, and a way into those events.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';
import { ANOMALY_KINDS, Id, LoadNotice, Time, isoOf, loadDirectory, logLink, roleLabel, staffName, useLoad, when } from './audit-common.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {import('./audit-common.js').Directory} Directory */

/** Just after an instant (the access log's `to` is exclusive). */
const justAfter = (/** @type {string} */ iso) => new Date(new Date(iso).getTime() + 1).toISOString();

/** The access log's filters for a row's events. @param {string} kind @param {Schemas['AnomalyOut']} r */
function eventsOf(kind, r) {
  const span = { from: r.first_at, to: justAfter(r.last_at) };
  if (kind === 'denied_by_actor') return logLink({ actor: r.actor_id, outcome: 'denied', ...span });
  if (kind === 'failed_sign_ins_by_account' || kind === 'failed_sign_ins_by_address') return logLink({ action: 'login_failed', ...span });
  if (kind === 'break_glass_unreviewed') return logLink({ actor: r.actor_id, bg: '1', ...span });
  return logLink({ actor: r.actor_id, ...span });
}

/** Who a row is about, in words. @param {string} kind @param {Schemas['AnomalyOut']} r @param {Directory | undefined} dir */
function whoText(kind, r, dir) {
  if (kind === 'failed_sign_ins_by_address') return r.client_addr ?? '';
  return staffName(dir, kind === 'failed_sign_ins_by_account' ? r.account_id : r.actor_id);
}

/** Who a row is about. @param {{kind: string, r: Schemas['AnomalyOut'], dir: Directory | undefined}} props */
function Who({ kind, r, dir }) {
  if (kind === 'failed_sign_ins_by_address') return html`<code>${r.client_addr ?? t('audit.none')}</code>`;
  if (kind === 'failed_sign_ins_by_account') {
    return r.account_id ? html`${staffName(dir, r.account_id)}<br /><${Id} id=${r.account_id} />` : html`<span class="muted">${t('audit.anom.noAccount')}</span>`;
  }
  return html`<span class="who-name">${staffName(dir, r.actor_id)}</span>${r.actor_role && html`<span class="muted who-role">${roleLabel(r.actor_role)}</span>`}`;
}

/** @param {{kind: string | undefined}} props the view from the route */
export function Anomalies({ kind: routeKind }) {
  const heading = useFocusHeading();
  const initial = routeKind && ANOMALY_KINDS.includes(routeKind) ? routeKind : ANOMALY_KINDS[0];
  const [kind, setKind] = useState(initial);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [threshold, setThreshold] = useState('');
  const [asked, setAsked] = useState(/** @type {{kind: string, from?: string, to?: string, threshold?: number}} */ ({ kind: initial }));
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const dir = useLoad(loadDirectory, 'directory');
  const view = useLoad(() => api('get', '/v1/audit/anomalies', {
    query: /** @type {any} */ ({
      kind: asked.kind,
      ...(asked.from ? { from: asked.from } : {}),
      ...(asked.to ? { to: asked.to } : {}),
      ...(asked.threshold ? { threshold: asked.threshold } : {}),
    }),
  }), JSON.stringify(asked));

  /** @param {Event} ev */
  function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const found = [];
    if (from && !isoOf(from)) found.push({ field: 'from', message: t('audit.err.time') });
    if (to && !isoOf(to)) found.push({ field: 'to', message: t('audit.err.time') });
    const f = isoOf(from);
    const tt = isoOf(to);
    if (f && tt && f >= tt) found.push({ field: 'to', message: t('audit.err.order') });
    const n = Number(threshold);
    if (kind === 'many_patrons_in_a_day' && threshold && !(Number.isInteger(n) && n >= 1 && n <= 100000)) found.push({ field: 'threshold', message: t('audit.err.threshold') });
    setErrors(found);
    if (found.length) return;
    setAsked({ kind, from: f, to: tt, threshold: kind === 'many_patrons_in_a_day' && threshold ? n : undefined });
  }

  const labels = { from: t('audit.f.from'), to: t('audit.f.to'), threshold: t('audit.anom.threshold') };
  const cls = (/** @type {string} */ f) => 'field' + (errorFor(errors, f) ? ' has-error' : '');
  const described = (/** @type {string} */ f, /** @type {string} */ hint = '') => [errorFor(errors, f) ? `anom-${f}-error` : '', hint].filter(Boolean).join(' ') || undefined;
  const rows = view.data?.rows ?? [];
  const shown = asked.kind;
  const isGrant = shown === 'break_glass_unreviewed';
  const whoColumn = 'audit.anom.col.who.' + (shown === 'failed_sign_ins_by_address' ? 'address' : shown === 'failed_sign_ins_by_account' ? 'account' : 'staff');
  return html`<main id="main" class="audit audit-anomalies">
    <h1 tabindex="-1" ref=${heading}>${t('audit.anom.title')}</h1>
    <p class="lead">${t('audit.anom.lead')}</p>
    <${ErrorSummary} errors=${errors} prefix="anom" labels=${labels} />
    <form class="audit-filters" onSubmit=${submit} novalidate data-testid="anomaly-form">
      <div class="filter-grid">
        <div class="field wide">
          <label for="anom-kind">${t('audit.anom.kind')}</label>
          <p class="hint" id="anom-kind-hint">${t('audit.anom.about.' + kind)}</p>
          <select id="anom-kind" value=${kind} aria-describedby="anom-kind-hint" onChange=${(/** @type {any} */ e) => setKind(e.currentTarget.value)}>
            ${ANOMALY_KINDS.map((k) => html`<option value=${k}>${t('audit.anom.kind.' + k)}</option>`)}
          </select>
        </div>
        <div class=${cls('from')}>
          <label for="anom-from">${t('audit.f.from')}</label>
          <p class="hint" id="anom-from-hint">${t('audit.anom.fromHint')}</p>
          <${FieldMessage} id="anom-from" message=${errorFor(errors, 'from')} />
          <input id="anom-from" type="datetime-local" value=${from} onInput=${(/** @type {any} */ e) => setFrom(e.currentTarget.value)} aria-describedby=${described('from', 'anom-from-hint')} />
        </div>
        <div class=${cls('to')}>
          <label for="anom-to">${t('audit.f.to')}</label>
          <${FieldMessage} id="anom-to" message=${errorFor(errors, 'to')} />
          <input id="anom-to" type="datetime-local" value=${to} onInput=${(/** @type {any} */ e) => setTo(e.currentTarget.value)} aria-describedby=${described('to')} />
        </div>
        ${kind === 'many_patrons_in_a_day' && html`<div class=${cls('threshold')}>
          <label for="anom-threshold">${t('audit.anom.threshold')}</label>
          <p class="hint" id="anom-threshold-hint">${t('audit.anom.thresholdHint')}</p>
          <${FieldMessage} id="anom-threshold" message=${errorFor(errors, 'threshold')} />
          <input id="anom-threshold" type="number" inputmode="numeric" min="1" max="100000" step="1" value=${threshold}
            onInput=${(/** @type {any} */ e) => setThreshold(e.currentTarget.value)} aria-describedby=${described('threshold', 'anom-threshold-hint')} />
        </div>`}
      </div>
      <button class="primary" type="submit">${t('audit.anom.submit')}</button>
    </form>

    <section aria-labelledby="anom-results-title" class="audit-results" data-testid="anomaly-view" data-kind=${shown}>
      <h2 id="anom-results-title">${t('audit.anom.kind.' + shown)}</h2>
      <${LoadNotice} state=${view.state} retry=${view.retry} />
      ${view.state === 'ready' && html`<p role="status" class="showing">${rows.length === 0 ? t('audit.anom.none') : rows.length === 1 ? t('audit.anom.countOne') : t('audit.anom.count', { n: rows.length })}</p>`}
      ${rows.length > 0 && html`<table class="data audit-anomaly-table" data-testid="anomalies">
        <caption class="visually-hidden">${t('audit.anom.caption', { kind: t('audit.anom.kind.' + shown) })}</caption>
        <thead><tr>
          <th scope="col">${t(whoColumn)}</th>
          ${shown === 'many_patrons_in_a_day' && html`<th scope="col">${t('audit.anom.col.day')}</th>`}
          <th scope="col" class="num">${t('audit.anom.col.count.' + shown)}</th>
          <th scope="col">${t('audit.anom.col.first')}</th>
          <th scope="col">${t('audit.anom.col.last')}</th>
          <th scope="col">${t('audit.anom.col.events')}</th>
        </tr></thead>
        <tbody>${rows.map((r) => html`<tr data-testid="anomaly-row" data-actor=${r.actor_id ?? ''} data-grant=${r.grant_id ?? ''}>
          <th scope="row" data-label=${t(whoColumn)}><${Who} kind=${shown} r=${r} dir=${dir.data} /></th>
          ${shown === 'many_patrons_in_a_day' && html`<td data-label=${t('audit.anom.col.day')}>${r.day ?? ''}</td>`}
          <td class="num" data-label=${t('audit.anom.col.count.' + shown)}>${r.count}</td>
          <td data-label=${t('audit.anom.col.first')}><${Time} iso=${r.first_at} /></td>
          <td data-label=${t('audit.anom.col.last')}><${Time} iso=${r.last_at} /></td>
          <td data-label=${t('audit.anom.col.events')}>
            <span class="muted">${r.total_events === 1 ? t('audit.anom.eventsOne') : t('audit.anom.events', { n: r.total_events })}</span><br />
            <a href=${eventsOf(shown, r)}>${t('audit.anom.seeEvents')}<span class="visually-hidden"> ${t('audit.anom.ofRow', { who: whoText(shown, r, dir.data), first: when(r.first_at) })}</span></a>
            ${isGrant && r.grant_id && html`<br /><a href="#/audit-break-glass">${t('audit.anom.review')}<span class="visually-hidden"> ${t('audit.anom.grant', { id: r.grant_id })}</span></a>`}
          </td>
        </tr>`)}</tbody>
      </table>`}
    </section>
  </main>`;
}
