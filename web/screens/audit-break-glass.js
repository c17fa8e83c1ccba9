// Break-glass review: the grants supervisors opened on cases outside their
// branches, each with its reason and the events under it (the grant and the
// reads it allowed), and the auditor's review of each, recorded once.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api, ApiError } from '../lib/api.js';
import { status } from '../lib/sync.js';
import { ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';
import { EventTable, Id, LoadNotice, Time, loadDirectory, refusal, staffName, useFocusWhen, useLoad, when } from './audit-common.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {Schemas['BreakGlassOut']} Grant */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {import('./audit-common.js').Directory} Directory */
/** @typedef {import('./audit-common.js').AuditEvent} AuditEvent */

const MINUTE = 60_000;
const shift = (/** @type {string} */ iso, /** @type {number} */ ms) => new Date(new Date(iso).getTime() + ms).toISOString();
const lengthOf = (/** @type {string} */ s) => [...s.trim()].length;

/**
 * The events under a grant: its opening, and the supervisor's accesses under
 * the break-glass rule to that case's patron while it lasted.
 * @param {Grant} g
 */
async function eventsOf(g) {
  /** @type {AuditEvent[]} */
  const all = [];
  /** @type {string | undefined} */
  let cursor;
  do {
    const page = await api('get', '/v1/audit/events', {
      query: /** @type {any} */ ({ actor_id: g.supervisor_id, break_glass: true, from: shift(g.starts_at, -MINUTE), to: shift(g.ends_at, MINUTE), limit: 500, ...(cursor ? { cursor } : {}) }),
    });
    all.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && all.length < 2000);
  const opened = all.find((e) => e.record_id === g.id);
  const patron = opened?.patron_id;
  return all.filter((e) => e.record_id === g.id || (e.action !== 'break_glass' && (e.record_id === g.case_id || (patron !== undefined && e.patron_id === patron))));
}

/** @param {{g: Grant, dir: Directory | undefined}} props */
function GrantEvents({ g, dir }) {
  const events = useLoad(() => eventsOf(g), g.id);
  const list = events.data ?? [];
  return html`<section class="grant-events" aria-labelledby=${'grant-events-' + g.id}>
    <h3 id=${'grant-events-' + g.id}>${t('audit.bg.events')}</h3>
    <${LoadNotice} state=${events.state} retry=${events.retry} />
    ${events.state === 'ready' && (list.length === 0
      ? html`<p class="muted">${t('audit.bg.noEvents')}</p>`
      : html`<p class="muted" data-testid="grant-event-count">${list.length === 1 ? t('audit.bg.eventsOne') : t('audit.bg.eventsMany', { n: list.length })}</p>
        <${EventTable} events=${list} dir=${dir} caption=${t('audit.bg.eventsCaption', { name: staffName(dir, g.supervisor_id) })} testid="grant-events" />`)}
  </section>`;
}

/** @param {{g: Grant, onReviewed: (g: Grant) => void, onGone: () => void}} props */
function ReviewForm({ g, onReviewed, onGone }) {
  const [comment, setComment] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const prefix = 'rev-' + g.id;

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const found = [];
    const n = lengthOf(comment);
    if (n < 1) found.push({ field: 'comment', message: t('audit.bg.err.empty') });
    else if (n > 2000) found.push({ field: 'comment', message: t('audit.bg.err.long') });
    if (!found.length && !status.online) found.push({ field: 'comment', message: t('audit.needsNetwork') });
    setErrors(found);
    if (found.length) return;
    setBusy(true);
    try {
      const done = await api('post', '/v1/break-glass/{id}/review', { params: { id: g.id }, body: { comment: comment.trim() } });
      onReviewed(done);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) onGone();
      else {
        setErrors(refusal(e, 'comment', ['comment']));
      }
    } finally {
      setBusy(false);
    }
  }

  const err = errorFor(errors, 'comment');
  return html`<form class="review-form" onSubmit=${submit} novalidate data-testid="review-form">
    <${ErrorSummary} errors=${errors} prefix=${prefix} labels=${{ comment: t('audit.bg.comment') }} />
    <div class=${'field' + (err ? ' has-error' : '')}>
      <label for=${prefix + '-comment'}>${t('audit.bg.comment')}</label>
      <p class="hint" id=${prefix + '-comment-hint'}>${t('audit.bg.commentHint')}</p>
      <${FieldMessage} id=${prefix + '-comment'} message=${err} />
      <textarea id=${prefix + '-comment'} rows="4" maxlength="2000" value=${comment}
        aria-describedby=${[err ? prefix + '-comment-error' : '', prefix + '-comment-hint'].filter(Boolean).join(' ')}
        onInput=${(/** @type {any} */ e) => setComment(e.currentTarget.value)}></textarea>
    </div>
    <button class="primary" type="submit" disabled=${busy}>${busy ? t('audit.bg.busy') : t('audit.bg.submit')}</button>
  </form>`;
}

/** @param {{g: Grant, dir: Directory | undefined, onReviewed: (g: Grant) => void, onGone: () => void}} props */
function GrantCard({ g, dir, onReviewed, onGone }) {
  const name = staffName(dir, g.supervisor_id);
  const open = new Date(g.ends_at).getTime() > Date.now();
  return html`<article class="grant-card" aria-labelledby=${'grant-' + g.id} data-testid="grant" data-id=${g.id} data-case=${g.case_id}>
    <h2 id=${'grant-' + g.id}>${t('audit.bg.grantTitle', { name })}</h2>
    <dl class="facts">
      <div><dt>${t('audit.bg.case')}</dt><dd><${Id} id=${g.case_id} /></dd></div>
      <div><dt>${t('audit.bg.reason')}</dt><dd class="reason">${g.reason}</dd></div>
      <div><dt>${t('audit.bg.opened')}</dt><dd><${Time} iso=${g.starts_at} /></dd></div>
      <div><dt>${open ? t('audit.bg.ends') : t('audit.bg.ended')}</dt><dd><${Time} iso=${g.ends_at} />${open && html` <span class="badge audit-open">${t('audit.bg.stillOpen')}</span>`}</dd></div>
      <div><dt>${t('audit.bg.restricted')}</dt><dd>${g.restricted_notes ? t('audit.bg.restrictedYes') : t('audit.bg.restrictedNo')}</dd></div>
      <div><dt>${t('audit.bg.grant')}</dt><dd><${Id} id=${g.id} /></dd></div>
      ${g.reviewed_at && html`<div><dt>${t('audit.bg.reviewedBy')}</dt><dd data-testid="reviewed-by">${t('audit.bg.reviewedByAt', { name: staffName(dir, g.reviewed_by), when: when(g.reviewed_at) })}</dd></div>
        <div><dt>${t('audit.bg.finding')}</dt><dd class="reason" data-testid="review-comment">${g.review_comment ?? ''}</dd></div>`}
    </dl>
    <${GrantEvents} g=${g} dir=${dir} />
    ${!g.reviewed_at && html`<${ReviewForm} g=${g} onReviewed=${onReviewed} onGone=${onGone} />`}
  </article>`;
}

/** @param {{reviewed: boolean}} props */
export function BreakGlassReview({ reviewed }) {
  const heading = useFocusHeading();
  const dir = useLoad(loadDirectory, 'directory');
  const [n, setN] = useState(0);
  const grants = useLoad(() => api('get', '/v1/break-glass', { query: { reviewed } }), `${reviewed}#${n}`);
  const [done, setDone] = useState(/** @type {Grant | null} */ (null));
  const doneRef = useFocusWhen(done);
  const [gone, setGone] = useState(false);
  const goneRef = useFocusWhen(gone);
  const items = grants.data?.items ?? [];

  /** @param {Grant} g */
  function reviewedOne(g) {
    setDone(g);
    setGone(false);
    if (grants.data) grants.replace({ ...grants.data, items: grants.data.items.filter((x) => x.id !== g.id) });
  }
  const current = (/** @type {boolean} */ r) => (r === reviewed ? 'page' : undefined);
  return html`<main id="main" class="audit audit-break-glass">
    <h1 tabindex="-1" ref=${heading}>${t('audit.bg.title')}</h1>
    <p class="lead">${t('audit.bg.lead')}</p>
    <nav class="audit-tabs" aria-label=${t('audit.bg.which')}>
      <a href="#/audit-break-glass" aria-current=${current(false)}>${t('audit.bg.awaiting')}</a>
      <a href="#/audit-break-glass/reviewed" aria-current=${current(true)}>${t('audit.bg.reviewed')}</a>
    </nav>
    ${done && html`<div class="confirmation" role="status" tabindex="-1" ref=${doneRef} data-testid="review-done">
      <p>${t('audit.bg.done', { name: staffName(dir.data, done.supervisor_id) })}</p>
      <p><a href="#/audit-break-glass/reviewed">${t('audit.bg.seeReviewed')}</a></p>
    </div>`}
    ${gone && html`<div class="notice" role="alert" tabindex="-1" ref=${goneRef}><p>${t('audit.bg.err.already')}</p></div>`}
    <${LoadNotice} state=${grants.state} retry=${grants.retry} />
    ${grants.state === 'ready' && html`<p role="status" class="showing" data-testid="grant-count">${items.length === 0
      ? reviewed ? t('audit.bg.noneReviewed') : t('audit.bg.noneAwaiting')
      : items.length === 1 ? (reviewed ? t('audit.bg.countReviewedOne') : t('audit.bg.countAwaitingOne'))
        : reviewed ? t('audit.bg.countReviewed', { n: items.length }) : t('audit.bg.countAwaiting', { n: items.length })}</p>`}
    ${items.map((g) => html`<${GrantCard} key=${g.id} g=${g} dir=${dir.data} onReviewed=${reviewedOne} onGone=${() => { setDone(null); setGone(true); setN((x) => x + 1); }} />`)}
  </main>`;
}
