// The accounting of disclosures for one patron: every allowed access to
// their records in a period, grouped by staff member, role and purpose of
// use (what a patron asking "who has looked at my file?" is given). It
// prints as a document of its own (styles/audit.css, @media print) and saves
// as CSV made on the device in the server's own layout.
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { session } from '../lib/session.js';
import { csvOf, saveText } from '../lib/download.js';
import { ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';
import { UUID, Id, LoadNotice, Time, isoOf, logLink, purposeLabel, roleLabel, typeLabel, useLoad, when } from './audit-common.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */

/** The server's CSV of an accounting (`Accept: text/csv`), made here from its JSON. @param {Schemas['DisclosuresOut']} d */
export function disclosuresCsv(d) {
  return csvOf([
    ['staff_id', 'display_name', 'role', 'purpose', 'accesses', 'first_at', 'last_at', 'record_types'],
    ...d.rows.map((r) => [r.staff_id, r.display_name, r.role, r.purpose, r.accesses, r.first_at, r.last_at, r.record_types.join(';')]),
  ]);
}

/** @param {{id: string | undefined}} props the patron from the route */
export function Disclosures({ id }) {
  const heading = useFocusHeading();
  const [patron, setPatron] = useState(id ?? '');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [period, setPeriod] = useState(/** @type {{from?: string, to?: string}} */ ({}));
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  useEffect(() => setPatron(id ?? ''), [id]);
  const key = id ? JSON.stringify([id, period.from, period.to]) : null;
  const result = useLoad(async () => /** @type {Schemas['DisclosuresOut']} */ (await api('get', '/v1/audit/disclosures', {
    query: /** @type {any} */ ({ patron_id: id, ...(period.from ? { from: period.from } : {}), ...(period.to ? { to: period.to } : {}) }),
  })), key);
  const [produced, setProduced] = useState('');
  useEffect(() => {
    if (result.state === 'ready') setProduced(new Date().toISOString());
  }, [result.data]);

  /** @param {Event} ev */
  function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const found = [];
    const p = patron.trim().toLowerCase();
    if (!UUID.test(p)) found.push({ field: 'patron', message: t('audit.err.patronId') });
    if (from && !isoOf(from)) found.push({ field: 'from', message: t('audit.err.time') });
    if (to && !isoOf(to)) found.push({ field: 'to', message: t('audit.err.time') });
    const f = isoOf(from);
    const tt = isoOf(to);
    if (f && tt && f >= tt) found.push({ field: 'to', message: t('audit.err.order') });
    setErrors(found);
    if (found.length) return;
    setPeriod({ from: f, to: tt });
    if (p !== id) location.hash = '#/audit-disclosures/' + p;
  }

  const labels = { patron: t('audit.f.patron'), from: t('audit.f.from'), to: t('audit.f.to') };
  const cls = (/** @type {string} */ f) => 'field' + (errorFor(errors, f) ? ' has-error' : '');
  const described = (/** @type {string} */ f, /** @type {string} */ hint = '') => [errorFor(errors, f) ? `disc-${f}-error` : '', hint].filter(Boolean).join(' ') || undefined;
  const data = result.data;
  const total = data ? data.rows.reduce((n, r) => n + r.accesses, 0) : 0;
  const periodText = period.from && period.to
    ? t('audit.disc.periodBetween', { from: when(period.from), to: when(period.to) })
    : period.from ? t('audit.disc.periodFrom', { from: when(period.from) })
      : period.to ? t('audit.disc.periodTo', { to: when(period.to) }) : t('audit.disc.periodAll');
  const me = session.other?.display_name ?? '';

  return html`<main id="main" class="audit audit-disclosures">
    <h1 tabindex="-1" ref=${heading}>${t('audit.disc.title')}</h1>
    <p class="lead">${t('audit.disc.lead')}</p>
    <${ErrorSummary} errors=${errors} prefix="disc" labels=${labels} />
    <form class="audit-filters" onSubmit=${submit} novalidate data-testid="disclosures-form">
      <div class="filter-grid">
        <div class=${cls('patron') + ' wide'}>
          <label for="disc-patron">${t('audit.f.patron')}</label>
          <p class="hint" id="disc-patron-hint">${t('audit.disc.patronHint')}</p>
          <${FieldMessage} id="disc-patron" message=${errorFor(errors, 'patron')} />
          <input id="disc-patron" autocomplete="off" spellcheck=${false} value=${patron} onInput=${(/** @type {any} */ e) => setPatron(e.currentTarget.value)} aria-describedby=${described('patron', 'disc-patron-hint')} />
        </div>
        <div class=${cls('from')}>
          <label for="disc-from">${t('audit.f.from')}</label>
          <${FieldMessage} id="disc-from" message=${errorFor(errors, 'from')} />
          <input id="disc-from" type="datetime-local" value=${from} onInput=${(/** @type {any} */ e) => setFrom(e.currentTarget.value)} aria-describedby=${described('from')} />
        </div>
        <div class=${cls('to')}>
          <label for="disc-to">${t('audit.f.to')}</label>
          <${FieldMessage} id="disc-to" message=${errorFor(errors, 'to')} />
          <input id="disc-to" type="datetime-local" value=${to} onInput=${(/** @type {any} */ e) => setTo(e.currentTarget.value)} aria-describedby=${described('to')} />
        </div>
      </div>
      <button class="primary" type="submit">${t('audit.disc.submit')}</button>
    </form>

    ${id && html`<${LoadNotice} state=${result.state} retry=${result.retry} />`}
    ${id && data && html`<section class="disclosure-report" aria-labelledby="disc-report-title" data-testid="disclosure-report">
      <div class="results-head">
        <h2 id="disc-report-title">${t('audit.disc.reportTitle')}</h2>
        <div class="report-actions">
          <button type="button" class="secondary small" onClick=${() => window.print()}>${t('audit.disc.print')}</button>
          <button type="button" class="secondary small" onClick=${() => saveText(`disclosures-${data.patron_id}.csv`, disclosuresCsv(data))}>${t('audit.disc.csv')}</button>
        </div>
      </div>
      <dl class="facts">
        <div><dt>${t('audit.disc.patron')}</dt><dd><${Id} id=${data.patron_id} /></dd></div>
        <div><dt>${t('audit.disc.period')}</dt><dd>${periodText}</dd></div>
        ${produced && html`<div><dt>${t('audit.disc.produced')}</dt><dd>${t('audit.disc.producedBy', { when: when(produced), name: me })}</dd></div>`}
      </dl>
      <p class="muted">${t('audit.disc.leftOut')}</p>
      ${data.rows.length === 0
        ? html`<p role="status" data-testid="disclosures-none">${t('audit.disc.none')}</p>`
        : html`<table class="data audit-disclosure-table" data-testid="disclosures">
          <caption>${data.rows.length === 1 ? t('audit.disc.captionOne', { total }) : t('audit.disc.caption', { n: data.rows.length, total })}</caption>
          <thead><tr>
            <th scope="col">${t('audit.disc.col.staff')}</th>
            <th scope="col">${t('audit.disc.col.role')}</th>
            <th scope="col">${t('audit.disc.col.purpose')}</th>
            <th scope="col" class="num">${t('audit.disc.col.accesses')}</th>
            <th scope="col">${t('audit.disc.col.first')}</th>
            <th scope="col">${t('audit.disc.col.last')}</th>
            <th scope="col">${t('audit.disc.col.types')}</th>
            <th scope="col" class="screen-only"><span class="visually-hidden">${t('audit.disc.col.events')}</span></th>
          </tr></thead>
          <tbody>${data.rows.map((r) => html`<tr data-testid="disclosure-row" data-staff=${r.staff_id ?? ''}>
            <th scope="row" data-label=${t('audit.disc.col.staff')}>${r.display_name ?? t('audit.unknownStaff')}</th>
            <td data-label=${t('audit.disc.col.role')}>${r.role ? roleLabel(r.role) : ''}</td>
            <td data-label=${t('audit.disc.col.purpose')}>${r.purpose ? purposeLabel(r.purpose) : t('audit.disc.noPurpose')}</td>
            <td class="num" data-label=${t('audit.disc.col.accesses')}>${r.accesses}</td>
            <td data-label=${t('audit.disc.col.first')}><${Time} iso=${r.first_at} /></td>
            <td data-label=${t('audit.disc.col.last')}><${Time} iso=${r.last_at} /></td>
            <td data-label=${t('audit.disc.col.types')}>${r.record_types.map(typeLabel).join(', ')}</td>
            <td class="screen-only">${r.staff_id && html`<a href=${logLink({ patron: data.patron_id, actor: r.staff_id, outcome: 'allowed', from: period.from, to: period.to })}>${t('audit.disc.events', { n: r.event_ids.length })}<span class="visually-hidden"> ${t('audit.disc.eventsOf', { name: r.display_name ?? '' })}</span></a>`}</td>
          </tr>`)}</tbody>
          <tfoot><tr><th scope="row">${t('audit.disc.total')}</th><td></td><td></td><td class="num" data-testid="disclosures-total">${total}</td><td></td><td></td><td></td><td class="screen-only"></td></tr></tfoot>
        </table>`}
    </section>`}
  </main>`;
}
