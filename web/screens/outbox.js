// What waits to be sent, and what needs its person: conflicts and rejections.
import { html } from '../lib/html.js';
import { t, timeOf } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { applyMineOnTop, dropMine } from '../lib/actions.js';
import { Badge, useFocusHeading } from './ui.js';
import { LogContact } from './log.js';
import { EditPatron } from './patrons.js';

/** @typedef {import('../lib/copy.js').Entry} Entry */

const label = (/** @type {string} */ k) => (t('fieldname.' + k) === 'fieldname.' + k ? k : t('fieldname.' + k));
/** @param {unknown} v */
const show = (v) => (Array.isArray(v) ? v.join(', ') : v === undefined || v === null ? '—' : String(v));

/** @param {{entry: Entry}} props */
function Conflict({ entry }) {
  const mine = entry.op.body ?? {};
  const current = entry.op.current ?? {};
  const fields = Object.keys(mine).filter((k) => k !== 'id');
  return html`<div class="conflict">
    <p>${t('outbox.conflictLead')}</p>
    <div class="compare">
      <section aria-label=${t('outbox.yours')}>
        <h3>${t('outbox.yours')}</h3>
        <dl>${fields.map((k) => html`<dt>${label(k)}</dt><dd>${show(mine[k])}</dd>`)}</dl>
      </section>
      <section aria-label=${t('outbox.server')}>
        <h3>${t('outbox.server')}</h3>
        <dl>${fields.map((k) => html`<dt>${label(k)}</dt><dd>${show(current[k])}</dd>`)}
          <dt>${t('fieldname.version')}</dt><dd>${show(current.version)}</dd></dl>
      </section>
    </div>
    <div class="actions">
      <button class="primary" type="button" onClick=${() => applyMineOnTop(entry)}>${t('outbox.applyMine')}</button>
      <button class="secondary" type="button" onClick=${() => dropMine(entry)}>${t('outbox.dropMine')}</button>
    </div>
  </div>`;
}

/** Kinds whose rejected write is corrected in this screen's own form. */
const FIXABLE = ['contact', 'patron'];

/**
 * Where the record of an operation is shown (its screen says what to do next).
 * @param {Entry} entry
 */
function screenOf(entry) {
  const { kind, id, body } = entry.op;
  if (kind === 'case') return '#/case/' + id;
  if (kind === 'referral') return '#/referral/' + id;
  if (kind === 'mandated_report') return '#/report/' + id;
  if (kind === 'support_request') return '#/request/' + id;
  if (kind === 'consent') return '#/patron/' + (copy.get('consent', id)?.patron_id ?? '');
  const caseId = copy.get(kind, id)?.case_id ?? body?.case_id ?? entry.op.path.match(/^\/v1\/cases\/([^/]+)/)?.[1];
  return caseId ? '#/case/' + caseId : '#/';
}

/** @param {{entry: Entry}} props */
function Rejected({ entry }) {
  const p = entry.op.problem;
  return html`<div class="rejected">
    <p>${t('outbox.rejectedLead', { title: p?.title ?? '' })}</p>
    ${p?.detail && html`<p>${p.detail}</p>`}
    <ul class="field-errors">${(p?.errors ?? []).map((e) => html`<li>${t('outbox.field', { field: e.field, message: e.message })}</li>`)}</ul>
    <div class="actions">
      ${FIXABLE.includes(entry.op.kind) ? html`<a class="button primary" href=${'#/fix/' + entry.op_id}>${t('outbox.fix')}</a>` : html`<a class="button primary" href=${screenOf(entry)}>${t('outbox.open')}</a>`}
      <button class="secondary" type="button" onClick=${() => dropMine(entry)}>${t('outbox.drop')}</button>
    </div>
  </div>`;
}

export function Outbox() {
  const heading = useFocusHeading();
  const entries = copy.outbox;
  return html`<main id="main">
    <h1 tabindex="-1" ref=${heading}>${t('outbox.title')}</h1>
    ${entries.length === 0 && html`<p>${t('outbox.empty')}</p>`}
    <ul class="list">
      ${entries.map((e) => html`<li class=${'item op op-' + e.state} key=${e.op_id} data-op=${e.op_id}>
        <div class="item-head"><strong>${e.op.label}</strong> <${Badge} state=${e.state} /></div>
        <div class="muted">${timeOf(new Date(e.at).toISOString())}</div>
        ${e.state === 'conflict' && html`<${Conflict} entry=${e} />`}
        ${e.state === 'rejected' && html`<${Rejected} entry=${e} />`}
      </li>`)}
    </ul>
  </main>`;
}

/** @param {{opId: string}} props */
export function Fix({ opId }) {
  const entry = copy.outbox.find((e) => e.op_id === opId);
  const back = () => { location.hash = '#/outbox'; };
  if (!entry) return html`<main id="main"><h1>${t('outbox.title')}</h1><p><a href="#/outbox">${t('outbox.back')}</a></p></main>`;
  if (entry.op.kind === 'contact') return html`<${LogContact} key=${opId} fixing=${entry} done=${back} />`;
  if (entry.op.kind !== 'patron') return html`<main id="main"><h1>${t('outbox.title')}</h1><p><a href="#/outbox">${t('outbox.back')}</a></p></main>`;
  return html`<${EditPatron} key=${opId} id=${entry.op.id} fixing=${entry} done=${back} />`;
}
