// The door from security and branch staff: the branch's support requests,
// urgent first, with only the incident fields the requester chose to share;
// receive, link to a contact or a case, close.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { dayOf, t, timeOf } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { changeRecord } from '../lib/actions.js';
import { Pending, branchName } from './case.js';
import { byUrgency } from './caseload.js';
import { useFocusHeading } from './ui.js';

/** @param {string} iso */
const when = (iso) => `${dayOf(iso)} ${timeOf(iso)}`;

/** @param {{r: any}} props */
function RequestItem({ r }) {
  return html`<li class=${'item request urgency-' + r.urgency} data-testid="support-request">
    <div class="item-head">
      <a href=${'#/request/' + r.id}><strong>${t('urgency.' + r.urgency)}: ${r.needed ?? t('requests.nothingSaid')}</strong></a>
      <span><span class=${'badge status-' + r.status}>${t('requestStatus.' + r.status)}</span> <${Pending} kind="support_request" id=${r.id} /></span>
    </div>
    <div class="muted">${branchName(r.branch_id)} · ${when(r.created_at)}</div>
  </li>`;
}

export function Requests() {
  const heading = useFocusHeading();
  const all = copy.all('support_request');
  const open = all.filter((r) => r.status === 'open').sort(byUrgency);
  const received = all.filter((r) => r.status === 'received').sort(byUrgency);
  const closed = all.filter((r) => r.status === 'closed').sort((a, b) => (b.closed_at ?? '').localeCompare(a.closed_at ?? '')).slice(0, 10);
  return html`<main id="main">
    <h1 tabindex="-1" ref=${heading}>${t('requests.title')}</h1>
    <p class="hint">${t('requests.lead')}</p>
    <h2 id="requests-open">${t('requests.open')}</h2>
    ${open.length ? html`<ul class="list" aria-labelledby="requests-open">${open.map((r) => html`<${RequestItem} key=${r.id} r=${r} />`)}</ul>` : html`<p class="muted">${t('requests.none')}</p>`}
    <h2 id="requests-received">${t('requests.received')}</h2>
    ${received.length ? html`<ul class="list" aria-labelledby="requests-received">${received.map((r) => html`<${RequestItem} key=${r.id} r=${r} />`)}</ul>` : html`<p class="muted">${t('requests.none')}</p>`}
    <h2 id="requests-closed">${t('requests.closed')}</h2>
    ${closed.length ? html`<ul class="list" aria-labelledby="requests-closed">${closed.map((r) => html`<${RequestItem} key=${r.id} r=${r} />`)}</ul>` : html`<p class="muted">${t('requests.none')}</p>`}
  </main>`;
}

/** @param {{id: string}} props */
export function Request({ id }) {
  const heading = useFocusHeading();
  const r = copy.get('support_request', id);
  const [link, setLink] = useState('');
  if (!r) return html`<main id="main"><h1 tabindex="-1" ref=${heading}>${t('requests.one')}</h1><p>${t('requests.missing')}</p></main>`;
  const me = copy.account?.staff_id;
  const role = copy.account?.role;
  const shared = r.shared ?? {};
  const cases = copy.all('case').filter((c) => c.status === 'open' && c.branch_id === r.branch_id);
  const contacts = copy.all('contact').filter((c) => c.worker_id === me && c.branch_id === r.branch_id).sort((a, b) => b.occurred_at.localeCompare(a.occurred_at)).slice(0, 20);
  const linkedCase = r.case_id ? copy.get('case', r.case_id) : null;
  const linkedContact = r.contact_id ? copy.get('contact', r.contact_id) : null;

  /** @param {'receive' | 'close'} to */
  async function move(to) {
    /** @type {{case_id?: string, contact_id?: string}} */
    const body = {};
    const [kind, target] = link.split(':');
    if (kind === 'case') body.case_id = target;
    if (kind === 'contact') body.contact_id = target;
    const local = { status: to === 'receive' ? 'received' : 'closed', ...body };
    if (to === 'receive') Object.assign(local, { received_at: new Date().toISOString(), received_by: me });
    else Object.assign(local, { closed_at: new Date().toISOString() });
    await changeRecord('support_request', r, { path: `/v1/support-requests/${r.id}/${to}`, body, label: to === 'receive' ? t('op.requestReceive') : t('op.requestClose') }, local);
    setLink('');
  }
  const patronOf = (/** @type {any} */ c) => copy.get('patron', c.patron_id)?.preferred_name ?? t('case.patron');
  const sharedFields = /** @type {[string, string | undefined][]} */ ([
    ['category', shared.category && t('incidentCategory.' + shared.category)],
    ['occurred_at', shared.occurred_at && when(shared.occurred_at)],
    ['action_taken', shared.action_taken && t('actionTaken.' + shared.action_taken)],
    ['description', shared.description],
    ['persons_involved', shared.persons_involved],
  ]).filter(([, v]) => v);

  return html`<main id="main" class="form-screen">
    <p class="breadcrumb"><a href="#/requests">${t('requests.title')}</a></p>
    <h1 tabindex="-1" ref=${heading}>${t('urgency.' + r.urgency)}: ${t('requests.one')}</h1>
    <p><span class=${'badge status-' + r.status}>${t('requestStatus.' + r.status)}</span> <${Pending} kind="support_request" id=${r.id} /></p>
    <dl class="facts">
      <dt>${t('requests.needed')}</dt><dd class="prewrap">${r.needed ?? t('requests.nothingSaid')}</dd>
      <dt>${t('requests.branch')}</dt><dd>${branchName(r.branch_id)}</dd>
      <dt>${t('requests.asked')}</dt><dd>${when(r.created_at)}</dd>
      ${r.received_at && html`<dt>${t('requests.receivedAt')}</dt><dd>${when(r.received_at)}</dd>`}
    </dl>
    <section aria-labelledby="request-shared">
      <h2 id="request-shared">${t('requests.shared')}</h2>
      ${sharedFields.length
        ? html`<dl class="facts" data-testid="shared-fields">${sharedFields.map(([k, v]) => html`<dt>${t('sharedField.' + k)}</dt><dd class="prewrap">${v}</dd>`)}</dl>`
        : html`<p class="muted">${t('requests.nothingShared')}</p>`}
    </section>
    ${(linkedCase || linkedContact) && html`<p>${linkedCase ? html`<a href=${'#/case/' + linkedCase.id}>${t('requests.linkedCase', { name: patronOf(linkedCase) })}</a>` : t('requests.linkedContact', { when: when(linkedContact.occurred_at) })}</p>`}
    ${role === 'social_worker' && r.status !== 'closed' && html`<section aria-labelledby="request-act">
      <h2 id="request-act">${r.status === 'open' ? t('requests.receiveTitle') : t('requests.closeTitle')}</h2>
      <div class="field">
        <label for="request-link">${t('requests.link')}</label>
        <p class="hint" id="request-link-hint">${t('requests.linkHint')}</p>
        <select id="request-link" aria-describedby="request-link-hint" value=${link} onChange=${(/** @type {any} */ e) => setLink(e.currentTarget.value)}>
          <option value="">${t('requests.noLink')}</option>
          ${cases.length > 0 && html`<optgroup label=${t('requests.cases')}>${cases.map((c) => html`<option value=${'case:' + c.id}>${patronOf(c)}</option>`)}</optgroup>`}
          ${contacts.length > 0 && html`<optgroup label=${t('requests.contacts')}>${contacts.map((c) => html`<option value=${'contact:' + c.id}>${when(c.occurred_at)} · ${t('kind.' + c.kind)}</option>`)}</optgroup>`}
        </select>
      </div>
      <div class="actions">
        ${r.status === 'open' && html`<button type="button" class="primary" onClick=${() => move('receive')}>${t('requests.receive')}</button>`}
        <button type="button" class=${r.status === 'open' ? 'secondary' : 'primary'} onClick=${() => move('close')}>${t('requests.close')}</button>
      </div>
    </section>`}
  </main>`;
}
