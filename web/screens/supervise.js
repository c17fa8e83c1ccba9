// Supervisors: for each of their branches the referrals past their follow-up
// date, the certifications expiring within 90 days and training coverage
// (read from the server), and break-glass: opening a case outside their
// branches for a few hours, shown as the audited exception it is.
// Reassignment itself is on the case file; overdue referrals link to it.
import { useEffect, useRef, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t, timeOf } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { api, ApiError } from '../lib/api.js';
import { status, syncSoon } from '../lib/sync.js';
import { ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {'loading' | 'ready' | 'offline' | 'failed'} LoadState */

/**
 * Data that only the server has: loaded when the screen opens (or `key`
 * changes), said to need the network while offline, and loaded by itself
 * once the network is back. What was loaded stays shown while offline.
 * @template T
 * @param {() => Promise<T>} load
 * @param {string} key what is asked (a new key loads anew)
 * @returns {{state: LoadState, data: T | undefined, retry: () => void}}
 */
export function useServerData(load, key) {
  const [s, set] = useState(/** @type {{state: LoadState, data: T | undefined, key: string}} */ ({ state: status.online ? 'loading' : 'offline', data: undefined, key }));
  const [attempt, setAttempt] = useState(0);
  const loaded = useRef(/** @type {string | null} */ (null));
  const online = status.online;
  useEffect(() => {
    if (!online) {
      set((prev) => (prev.key === key && prev.state === 'ready' ? prev : { state: 'offline', data: undefined, key }));
      return;
    }
    if (loaded.current === key + '#' + attempt) return;
    let live = true;
    set((prev) => (prev.key === key ? { ...prev, state: prev.state === 'ready' ? 'ready' : 'loading' } : { state: 'loading', data: undefined, key }));
    load().then(
      (data) => {
        if (!live) return;
        loaded.current = key + '#' + attempt;
        set({ state: 'ready', data, key });
      },
      (e) => {
        if (!live) return;
        set({ state: e instanceof ApiError && e.offline ? 'offline' : 'failed', data: undefined, key });
      },
    );
    return () => {
      live = false;
    };
  }, [online, key, attempt]);
  return { state: s.key === key ? s.state : 'loading', data: s.key === key ? s.data : undefined, retry: () => setAttempt((n) => n + 1) };
}

/**
 * A calendar date (`YYYY-MM-DD`) as a local date, for showing.
 * @param {string} day
 */
export function localDate(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d);
}
/** @param {string} day */
const showDate = (day) => localDate(day).toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });

/**
 * Whole days from today to a calendar date (negative: in the past).
 * @param {string} day
 */
function daysUntil(day) {
  const now = new Date();
  const today = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
  const [y, m, d] = day.split('-').map(Number);
  return Math.round((Date.UTC(y, m - 1, d) - today) / 86_400_000);
}

/**
 * Every overdue referral of a branch (page by page).
 * @param {string} id
 */
async function overdueOf(id) {
  /** @type {Schemas['ReferralOut'][]} */
  const items = [];
  /** @type {string | undefined} */
  let cursor;
  do {
    /** @type {{limit: number, cursor?: string}} */
    const query = { limit: 200 };
    if (cursor) query.cursor = cursor;
    const page = await api('get', '/v1/branches/{id}/referrals/overdue', { params: { id }, query });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/** @param {{id: string}} branch */
async function branchData(branch) {
  const [overdue, expiring, coverage] = await Promise.all([
    overdueOf(branch.id),
    api('get', '/v1/branches/{id}/certifications/expiring', { params: { id: branch.id }, query: { days: 90 } }),
    api('get', '/v1/branches/{id}/certifications/coverage', { params: { id: branch.id } }),
  ]);
  return { overdue, expiring: expiring.items, coverage: coverage.items };
}

/** @param {{state: LoadState, retry: () => void, needsNetwork: string}} props */
export function LoadNotice({ state, retry, needsNetwork }) {
  if (state === 'loading') return html`<p class="muted" role="status">${t('supervise.loading')}</p>`;
  if (state === 'offline') {
    // The browser may think it is online while the server cannot be reached: then a retry is offered.
    return html`<div class="notice needs-network" role="status" data-testid="needs-network"><p>${needsNetwork}</p>
      ${status.online && html`<button type="button" class="secondary small" onClick=${retry}>${t('supervise.retry')}</button>`}</div>`;
  }
  if (state === 'failed') {
    return html`<div class="notice" role="alert"><p>${t('supervise.failed')}</p>
      <button type="button" class="secondary small" onClick=${retry}>${t('supervise.retry')}</button></div>`;
  }
  return null;
}

/** @param {{r: Schemas['ReferralOut']}} props */
function OverdueItem({ r }) {
  const patron = r.patron_id ? copy.get('patron', r.patron_id) : undefined;
  const late = r.follow_up_on ? -daysUntil(r.follow_up_on) : 0;
  return html`<li class="item overdue-item" data-testid="overdue-referral" data-id=${r.id}>
    <div class="item-head">
      <a class="item-title" href=${'#/referral/' + r.id}>${t('supervise.overdue.to', { recipient: r.recipient_name })}</a>
      <span class="badge badge-late">${late === 1 ? t('supervise.overdue.dayOne') : t('supervise.overdue.days', { n: late })}</span>
    </div>
    <dl class="facts">
      <div><dt>${t('supervise.overdue.patron')}</dt><dd>${patron?.preferred_name ?? html`<span class="muted">${t('supervise.overdue.notHeld')}</span>`}</dd></div>
      <div><dt>${t('supervise.overdue.due')}</dt><dd>${r.follow_up_on ? showDate(r.follow_up_on) : ''}</dd></div>
      <div><dt>${t('supervise.overdue.status')}</dt><dd>${t('stats.status.' + r.status)}</dd></div>
      ${r.needs.length > 0 && html`<div><dt>${t('supervise.overdue.needs')}</dt><dd>${r.needs.map((n) => t('need.' + n)).join(', ')}</dd></div>`}
    </dl>
    ${r.case_id && html`<a class="button secondary" href=${'#/case/' + r.case_id}>${t('supervise.overdue.case')}<span class="visually-hidden">${t('supervise.overdue.caseOf', { recipient: r.recipient_name })}</span></a>`}
  </li>`;
}

/** @param {{h: Schemas['HoldingOut']}} props */
function ExpiringItem({ h }) {
  const n = h.expires_on ? daysUntil(h.expires_on) : 0;
  const when = n === 0 ? t('supervise.expiring.today') : n === 1 ? t('supervise.expiring.inOneDay') : n > 0 ? t('supervise.expiring.inDays', { n }) : t('supervise.expiring.ago', { n: -n });
  return html`<li class="item" data-testid="expiring-certification">
    <div class="item-head"><strong>${h.display_name}</strong><span class="muted">${t('supervise.role.' + h.role)}${h.trainer ? ` · ${t('supervise.expiring.trainer')}` : ''}</span></div>
    <div>${h.training_name}</div>
    ${h.expires_on && html`<div class=${n <= 30 ? 'soon' : ''}>${t('supervise.expiring.on', { date: showDate(h.expires_on) })} (${when})</div>`}
  </li>`;
}

/** @param {{branch: {id: string, name: string}, items: Schemas['CoverageOut'][]}} props */
function Coverage({ branch, items }) {
  if (!items.length) return html`<p class="muted">${t('supervise.coverage.none')}</p>`;
  return html`<div class="table-wrap">
    <table class="data coverage" data-testid="coverage">
      <caption class="visually-hidden">${t('supervise.coverage.caption', { branch: branch.name })}</caption>
      <thead><tr>
        <th scope="col">${t('supervise.coverage.training')}</th>
        <th scope="col" class="num">${t('supervise.coverage.certified')}</th>
        <th scope="col" class="num">${t('supervise.coverage.staff')}</th>
        <th scope="col">${t('supervise.coverage.share')}</th>
      </tr></thead>
      <tbody>${items.map((c) => {
        const pct = Math.round(c.share * 100);
        return html`<tr>
          <th scope="row">${c.training_name}</th>
          <td class="num">${c.certified}</td>
          <td class="num">${c.front_line_staff}</td>
          <td class="share">${c.front_line_staff === 0
            ? html`<span class="muted">${t('supervise.coverage.noStaff')}</span>`
            : html`<span class="share-both"><span class="share-text">${t('supervise.coverage.percent', { n: pct })}</span>
            <svg class="share-bar" aria-hidden="true" focusable="false" width="80" height="12"><rect class="share-bg" x="0.5" y="0.5" width="79" height="11" /><rect class="share-fill" x="0" y="0" width=${Math.max(0, Math.min(80, c.share * 80))} height="12" /></svg></span>`}</td>
        </tr>`;
      })}</tbody>
    </table>
  </div>`;
}

/** @param {{branch: {id: string, name: string}}} props */
function BranchPanel({ branch }) {
  const { state, data, retry } = useServerData(() => branchData(branch), branch.id);
  return html`<section class="branch-panel" aria-labelledby=${'branch-' + branch.id} data-testid="branch-panel">
    <h2 id=${'branch-' + branch.id}>${branch.name}</h2>
    ${!data
      ? state === 'offline' && !status.online
        ? html`<p class="muted">${t('supervise.notLoaded')}</p>`
        : html`<${LoadNotice} state=${state} retry=${retry} needsNetwork=${t('supervise.needsNetwork')} />`
      : html`<div class="branch-columns">
      <section>
        <h3>${t('supervise.overdue.title')}</h3>
        ${data.overdue.length
          ? html`<ul class="list">${data.overdue.map((r) => html`<${OverdueItem} key=${r.id} r=${r} />`)}</ul>`
          : html`<p class="muted">${t('supervise.overdue.none')}</p>`}
      </section>
      <section>
        <h3>${t('supervise.expiring.title')}</h3>
        ${data.expiring.length
          ? html`<ul class="list">${data.expiring.map((h) => html`<${ExpiringItem} key=${h.staff_id + h.training_id} h=${h} />`)}</ul>`
          : html`<p class="muted">${t('supervise.expiring.none')}</p>`}
        <h3>${t('supervise.coverage.title')}</h3>
        <${Coverage} branch=${branch} items=${data.coverage} />
      </section>
    </div>`}
  </section>`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOURS = [1, 2, 3, 4, 5, 6, 7, 8];

/** The characters of a text as the server counts them (code points). */
const lengthOf = (/** @type {string} */ s) => [...s.trim()].length;

/**
 * The server's refusal as the form's field messages.
 * @param {unknown} e
 * @returns {FieldError[]}
 */
function refusal(e) {
  if (!(e instanceof ApiError)) return [{ field: 'case_id', message: t('errors.server') }];
  if (e.offline) return [{ field: 'case_id', message: t('breakGlass.err.offline') }];
  const p = e.problem;
  if (e.status === 403) return [{ field: 'case_id', message: t('breakGlass.err.forbidden') }];
  if (e.status === 404) return [{ field: 'case_id', message: t('breakGlass.err.notFound') }];
  if (e.status === 409) {
    const why = `${p.detail ?? ''}`;
    return [{ field: 'case_id', message: why.includes('scope') ? t('breakGlass.err.inScope') : why.includes('extended') ? t('breakGlass.err.open') : t('breakGlass.err.conflict') }];
  }
  if (e.status === 422 || e.status === 400) {
    /** @type {Record<string, string>} */
    const ours = { case_id: t('breakGlass.err.caseId'), reason: t('breakGlass.err.reason'), hours: t('breakGlass.err.hours') };
    const errors = (p.errors ?? []).map((x) => ({ field: x.field, message: ours[x.field.split('/')[0]] ?? x.message }));
    if (errors.length) return errors;
  }
  return [{ field: 'case_id', message: t('errors.server') }];
}

function BreakGlass() {
  const [caseId, setCaseId] = useState('');
  const [reason, setReason] = useState('');
  const [hours, setHours] = useState('1');
  const [restricted, setRestricted] = useState(false);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [grant, setGrant] = useState(/** @type {Schemas['BreakGlassOut'] | null} */ (null));
  const grantRef = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => {
    if (grant) grantRef.current?.focus();
  }, [grant]);

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const found = [];
    const id = caseId.trim().toLowerCase();
    if (!UUID.test(id)) found.push({ field: 'case_id', message: t('breakGlass.err.caseId') });
    const n = lengthOf(reason);
    if (n < 20) found.push({ field: 'reason', message: t('breakGlass.err.reason') });
    else if (n > 2000) found.push({ field: 'reason', message: t('breakGlass.err.reasonLong') });
    const h = Number(hours);
    if (!(h >= 1 && h <= 8)) found.push({ field: 'hours', message: t('breakGlass.err.hours') });
    if (!found.length && !status.online) found.push({ field: 'case_id', message: t('breakGlass.err.offline') });
    setErrors(found);
    if (found.length) return;
    setBusy(true);
    setGrant(null);
    try {
      const made = await api('post', '/v1/break-glass', {
        body: { case_id: id, reason: reason.trim(), hours: h, include_restricted_notes: restricted },
      });
      setGrant(made);
      setCaseId('');
      setReason('');
      setHours('1');
      setRestricted(false);
      syncSoon();
    } catch (e) {
      setErrors(refusal(e));
    } finally {
      setBusy(false);
    }
  }

  const labels = { case_id: t('breakGlass.caseId'), reason: t('breakGlass.reason'), hours: t('breakGlass.hours'), include_restricted_notes: t('breakGlass.restricted') };
  const cls = (/** @type {string} */ f) => 'field' + (errorFor(errors, f) ? ' has-error' : '');
  const described = (/** @type {string} */ f, /** @type {string} */ more) => [errorFor(errors, f) ? `bg-${f}-error` : '', more].filter(Boolean).join(' ');
  const count = lengthOf(reason);
  return html`<section class="break-glass" aria-labelledby="bg-title" data-testid="break-glass">
    <h2 id="bg-title">${t('breakGlass.title')}</h2>
    <p>${t('breakGlass.lead')}</p>
    <div class="exception" data-testid="break-glass-exception"><p>${t('breakGlass.exception')}</p></div>
    ${!status.online && html`<div class="notice needs-network" role="status"><p>${t('breakGlass.needsNetwork')}</p></div>`}
    ${grant && html`<div class="confirmation grant" role="status" tabindex="-1" ref=${grantRef} data-testid="grant">
      <p>${t('breakGlass.granted', { id: grant.case_id })}</p>
      <p>${t('breakGlass.until', { time: timeOf(grant.ends_at), date: new Date(grant.ends_at).toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' }) })}
        ${' '}${grant.restricted_notes ? t('breakGlass.withRestricted') : t('breakGlass.withoutRestricted')}
        ${' '}${t('breakGlass.reviewed')}</p>
      <p>${t('breakGlass.syncing')} <a href=${'#/case/' + grant.case_id}>${t('breakGlass.open')}</a></p>
    </div>`}
    <${ErrorSummary} errors=${errors} prefix="bg" labels=${labels} />
    <form onSubmit=${submit} novalidate>
      <div class=${cls('case_id')}>
        <label for="bg-case_id">${t('breakGlass.caseId')}</label>
        <p class="hint" id="bg-case_id-hint">${t('breakGlass.caseIdHint')}</p>
        <${FieldMessage} id="bg-case_id" message=${errorFor(errors, 'case_id')} />
        <input id="bg-case_id" autocomplete="off" spellcheck=${false} aria-describedby=${described('case_id', 'bg-case_id-hint')}
          value=${caseId} onInput=${(/** @type {any} */ e) => setCaseId(e.currentTarget.value)} />
      </div>
      <div class=${cls('reason')}>
        <label for="bg-reason">${t('breakGlass.reason')}</label>
        <p class="hint" id="bg-reason-hint">${t('breakGlass.reasonHint')}</p>
        <${FieldMessage} id="bg-reason" message=${errorFor(errors, 'reason')} />
        <textarea id="bg-reason" rows="4" aria-describedby=${described('reason', 'bg-reason-hint bg-reason-count')}
          value=${reason} onInput=${(/** @type {any} */ e) => setReason(e.currentTarget.value)}></textarea>
        <p class=${'hint count' + (count < 20 ? '' : ' enough')} id="bg-reason-count" data-testid="reason-count">${count < 20 ? t('breakGlass.reasonCount', { n: count }) : t('breakGlass.reasonCountOk', { n: count })}</p>
      </div>
      <div class=${cls('hours')}>
        <label for="bg-hours">${t('breakGlass.hours')}</label>
        <p class="hint" id="bg-hours-hint">${t('breakGlass.hoursHint')}</p>
        <${FieldMessage} id="bg-hours" message=${errorFor(errors, 'hours')} />
        <select id="bg-hours" class="short" aria-describedby=${described('hours', 'bg-hours-hint')} value=${hours} onChange=${(/** @type {any} */ e) => setHours(e.currentTarget.value)}>
          ${HOURS.map((n) => html`<option value=${String(n)}>${n === 1 ? t('breakGlass.hourOne') : t('breakGlass.hourMany', { n })}</option>`)}
        </select>
      </div>
      <div class=${cls('include_restricted_notes') + ' restricted-choice'}>
        <label class="check"><input id="bg-include_restricted_notes" type="checkbox" checked=${restricted} aria-describedby="bg-restricted-hint"
          onChange=${(/** @type {any} */ e) => setRestricted(e.currentTarget.checked)} />
          <span>${t('breakGlass.restricted')}</span></label>
        <p class="hint" id="bg-restricted-hint">${t('breakGlass.restrictedHint')}</p>
      </div>
      <button class="danger" type="submit" disabled=${busy}>${busy ? t('breakGlass.busy') : t('breakGlass.submit')}</button>
    </form>
  </section>`;
}

/** @param {any} _props */
export function Supervise(_props) {
  const heading = useFocusHeading();
  const ids = copy.account?.branches ?? [];
  const branches = copy.branches.length ? copy.branches : ids.map((id) => ({ id, name: id }));
  return html`<main id="main" class="supervise">
    <h1 tabindex="-1" ref=${heading}>${t('supervise.title')}</h1>
    <p class="lead">${t('supervise.lead')}</p>
    ${!status.online && html`<div class="notice needs-network" role="status" data-testid="needs-network"><p>${t('supervise.needsNetwork')}</p></div>`}
    ${branches.length > 1 && html`<nav class="jump" aria-label=${t('supervise.jump')}><ul>
      ${branches.map((b) => html`<li><a href=${'#branch-' + b.id} onClick=${(/** @type {Event} */ ev) => jump(ev, 'branch-' + b.id)}>${b.name}</a></li>`)}
      <li><a href="#bg-title" onClick=${(/** @type {Event} */ ev) => jump(ev, 'bg-title')}>${t('breakGlass.submit')}</a></li>
    </ul></nav>`}
    ${branches.length ? branches.map((b) => html`<${BranchPanel} key=${b.id} branch=${b} />`) : html`<p>${t('supervise.noBranches')}</p>`}
    <${BreakGlass} />
  </main>`;
}

/**
 * In-page links without touching the route (the hash is the app's router).
 * @param {Event} ev
 * @param {string} id
 */
function jump(ev, id) {
  ev.preventDefault();
  const el = document.getElementById(id);
  if (!el) return;
  el.setAttribute('tabindex', '-1');
  el.focus();
  el.scrollIntoView({ block: 'start' });
}
