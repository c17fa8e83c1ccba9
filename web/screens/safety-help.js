// Support requests, the one door from safety to social work, as their
// requester sees them: the form (branch, urgency, what is needed, an
// incident and which of its fields to share) and afterwards the status
// only: sent, received (by which team, when), closed. Online only.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { uuidv7 } from '../lib/uuid.js';
import { ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';
import {
  Choice, LoadNotice, OfflineNote, SHAREABLE, Select, Text, URGENCIES,
  directory, excerpt, go, incidentLabel, lengthOf, myBranches, recentIncidents, refusal, setFlash,
  useFlash, useLoad, useOnline, when,
} from './safety-common.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {import('./safety-common.js').Directory} Directory */

/**
 * The fields a requester sees of their request: its status and when it
 * moved (the API gives no more; nothing else is shown even if it did).
 * @param {Schemas['SupportRequestOut']} r
 */
const statusOnly = (r) => ({ id: r.id, status: r.status, created_at: r.created_at, received_at: r.received_at, received_team: r.received_team, closed_at: r.closed_at });

/** @param {{status: string}} props */
const StatusBadge = ({ status }) => html`<span class=${'badge help-' + status} data-testid="help-status">${t('help.status.' + status)}</span>`;

/** The support requests the caller made, status only. @param {any} _props */
export function HelpRequests(_props) {
  const heading = useFocusHeading();
  const { state, data, retry } = useLoad(async () => {
    /** @type {ReturnType<typeof statusOnly>[]} */
    const items = [];
    /** @type {string | undefined} */
    let cursor;
    do {
      /** @type {{limit: number, cursor?: string}} */
      const query = { limit: 200 };
      if (cursor) query.cursor = cursor;
      const page = await api('get', '/v1/support-requests', { query });
      items.push(...page.items.map(statusOnly));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return items.sort((a, b) => b.created_at.localeCompare(a.created_at));
  }, 'help-list');
  return html`<main id="main" class="safety help-requests">
    <h1 tabindex="-1" ref=${heading}>${t('help.title')}</h1>
    <${OfflineNote} />
    <p class="lead">${t('help.lead')}</p>
    <div class="actions top-actions"><a class="button primary" href="#/help-request/new">${t('help.newTitle')}</a></div>
    ${!data && html`<${LoadNotice} state=${state} retry=${retry} />`}
    ${data && (data.length === 0
      ? html`<p class="muted">${t('help.none')}</p>`
      : html`<div class="table-wrap"><table class="data help-table" data-testid="help-table">
        <caption class="visually-hidden">${t('help.caption')}</caption>
        <thead><tr>
          <th scope="col">${t('help.sent')}</th><th scope="col">${t('help.statusCol')}</th>
          <th scope="col">${t('help.received')}</th><th scope="col">${t('help.closed')}</th>
        </tr></thead>
        <tbody>${data.map((r) => html`<tr key=${r.id} data-testid="help-row" data-id=${r.id}>
          <th scope="row"><a href=${'#/help-request/' + r.id}>${when(r.created_at)}</a></th>
          <td><${StatusBadge} status=${r.status} /></td>
          <td>${r.received_at ? t('help.receivedBy', { when: when(r.received_at), team: r.received_team ?? t('help.aTeam') }) : t('help.notYet')}</td>
          <td>${r.closed_at ? when(r.closed_at) : t('help.notYet')}</td>
        </tr>`)}</tbody>
      </table></div>`)}
    ${data && html`<button type="button" class="secondary refresh" onClick=${retry}>${t('help.checkAgain')}</button>`}
  </main>`;
}

/** One request's status. @param {{id: string}} props */
export function HelpRequest({ id }) {
  const heading = useFocusHeading();
  const flash = useFlash();
  const { state, data, retry } = useLoad(async () => statusOnly(await api('get', '/v1/support-requests/{id}', { params: { id } })), 'help:' + id);
  return html`<main id="main" class="safety help-request">
    <h1 tabindex="-1" ref=${heading}>${t('help.viewTitle')}</h1>
    <${OfflineNote} />
    ${flash && html`<p class="confirmation" role="status" data-testid="flash">${flash}</p>`}
    ${!data && html`<${LoadNotice} state=${state} retry=${retry} />`}
    ${data && html`<div class="help-status-panel">
        <p class="big-status" role="status"><span>${t('help.statusIs')}</span> <${StatusBadge} status=${data.status} /></p>
        <dl class="facts" data-testid="help-facts">
          <div><dt>${t('help.sent')}</dt><dd>${when(data.created_at)}</dd></div>
          <div><dt>${t('help.received')}</dt><dd>${data.received_at ? t('help.receivedBy', { when: when(data.received_at), team: data.received_team ?? t('help.aTeam') }) : t('help.notYet')}</dd></div>
          <div><dt>${t('help.closed')}</dt><dd>${data.closed_at ? when(data.closed_at) : t('help.notYet')}</dd></div>
        </dl>
        <p class="notice">${t('help.onlyStatus')}</p>
      </div>
      <div class="actions">
        <button type="button" class="primary" onClick=${retry}>${t('help.checkAgain')}</button>
        <a class="button secondary" href="#/help-requests">${t('help.toList')}</a>
      </div>`}
  </main>`;
}

/** Ask social work for help, optionally about an incident. @param {{incidentId?: string}} props */
export function NewHelpRequest({ incidentId }) {
  const heading = useFocusHeading();
  const { state, data, retry } = useLoad(async () => {
    const [dir, incident] = await Promise.all([directory(), incidentId ? api('get', '/v1/incidents/{id}', { params: { id: incidentId } }) : Promise.resolve(undefined)]);
    return { dir, incident };
  }, 'new-help:' + (incidentId ?? ''));
  return html`<main id="main" class="form-screen safety">
    <h1 tabindex="-1" ref=${heading}>${t('help.newTitle')}</h1>
    <p class="lead">${t('help.newLead')}</p>
    <${OfflineNote} />
    ${data ? html`<${HelpForm} dir=${data.dir} incident=${data.incident} />` : html`<${LoadNotice} state=${state} retry=${retry} />`}
  </main>`;
}

/** @param {{dir: Directory, incident?: Schemas['IncidentOut']}} props */
function HelpForm({ dir, incident }) {
  const branches = myBranches(dir);
  const [key] = useState(() => uuidv7());
  const [branch, setBranch] = useState(incident?.branch_id ?? (branches.length === 1 ? branches[0].id : ''));
  const [urgency, setUrgency] = useState('');
  const [needed, setNeeded] = useState('');
  const [linked, setLinked] = useState(incident?.id ?? '');
  const [share, setShare] = useState(/** @type {string[]} */ ([]));
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const online = useOnline();
  const recent = useLoad(() => (incident ? Promise.resolve([incident]) : branch ? recentIncidents(branch) : Promise.resolve([])), 'recent:' + branch + (incident?.id ?? ''));
  const chosen = (recent.data ?? []).find((i) => i.id === linked);

  /** The value a field would share, to see before ticking it. @param {Schemas['IncidentOut']} i @param {string} f */
  function valueOf(i, f) {
    if (f === 'occurred_at') return when(i.occurred_at);
    if (f === 'category') return t('incident.category.' + i.category);
    if (f === 'action_taken') return t('incident.action.' + i.action_taken);
    if (f === 'description') return excerpt(i.description, 200);
    return i.persons_involved ? excerpt(i.persons_involved, 200) : t('incident.nonePersons');
  }

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const found = [];
    if (!branch) found.push({ field: 'branch_id', message: t('help.err.branch') });
    if (!urgency) found.push({ field: 'urgency', message: t('help.err.urgency') });
    if (!needed.trim()) found.push({ field: 'needed', message: t('help.err.needed') });
    else if (lengthOf(needed) > 2000) found.push({ field: 'needed', message: t('help.err.neededLong') });
    if (!found.length && !online) found.push({ field: 'branch_id', message: t('safety.err.offline') });
    setErrors(found);
    if (found.length) return;
    setBusy(true);
    try {
      const made = await api('post', '/v1/support-requests', {
        headers: { 'Idempotency-Key': key },
        body: {
          id: key,
          branch_id: branch,
          urgency: /** @type {Schemas['Urgency']} */ (urgency),
          needed: needed.trim(),
          share: /** @type {Schemas['IncidentField'][]} */ (linked ? SHAREABLE.filter((f) => share.includes(f)) : []),
          ...(linked ? { incident_id: linked } : {}),
        },
      });
      setFlash(t('help.sentFlash'));
      go('help-request/' + made.id);
    } catch (e) {
      setErrors(refusal(e, 'branch_id', (field, message) => {
        const f = field.split('/')[0];
        /** @type {Record<string, string>} */
        const ours = { branch_id: t('help.err.branch'), urgency: t('help.err.urgency'), needed: t('help.err.needed'), incident_id: t('help.err.incident'), share: t('help.err.share') };
        return { field: f, message: ours[f] ?? message };
      }));
    } finally {
      setBusy(false);
    }
  }
  const labels = { branch_id: t('help.branch'), urgency: t('help.urgency'), needed: t('help.needed'), incident_id: t('help.incident'), share: t('help.share') };
  const shareErr = errorFor(errors, 'share');
  return html`<form onSubmit=${submit} novalidate>
    <${ErrorSummary} errors=${errors} prefix="help" labels=${labels} />
    ${incident
      ? html`<p class="facts-line"><strong>${t('help.branch')}:</strong> ${branches.find((b) => b.id === branch)?.name ?? ''}</p>`
      : html`<${Select} id="help-branch_id" field="branch_id" label=${t('help.branch')} hint=${t('help.branchHint')} value=${branch}
          set=${(/** @type {string} */ v) => { setBranch(v); setLinked(''); setShare([]); }} errors=${errors}
          options=${branches.map((b) => [b.id, b.name])} empty=${t('incident.chooseBranch')} />`}
    <${Choice} id="help-urgency" field="urgency" legend=${t('help.urgency')} hint=${t('help.urgencyHint')} options=${URGENCIES}
      label=${(/** @type {string} */ v) => t('help.urgency.' + v)} value=${urgency} set=${setUrgency} errors=${errors} />
    <${Text} id="help-needed" field="needed" label=${t('help.needed')} hint=${t('help.neededHint')} value=${needed} set=${setNeeded} errors=${errors} multi=${true} rows=${4} />
    ${incident
      ? html`<div class="field"><p class="label-like">${t('help.incident')}</p><p data-testid="help-incident">${incidentLabel(incident, dir)}</p></div>`
      : branch && (recent.data
        ? html`<${Select} id="help-incident_id" field="incident_id" label=${t('help.incident')} hint=${t('help.incidentHint')} value=${linked}
            set=${(/** @type {string} */ v) => { setLinked(v); setShare([]); }} errors=${errors}
            options=${recent.data.map((i) => [i.id, incidentLabel(i, dir)])} empty=${t('help.noIncident')} />`
        : html`<${LoadNotice} state=${recent.state} retry=${recent.retry} />`)}
    ${chosen && html`<fieldset class=${'field share' + (shareErr ? ' has-error' : '')} id="help-share" tabindex="-1" aria-describedby="help-share-hint">
      <legend>${t('help.share')}</legend>
      <p class="hint" id="help-share-hint">${t('help.shareHint')}</p>
      <${FieldMessage} id="help-share" message=${shareErr} />
      <ul class="share-list">
        ${SHAREABLE.map((f) => html`<li>
          <label class="check share-choice"><input type="checkbox" name="share" value=${f} checked=${share.includes(f)}
            aria-describedby=${'help-share-' + f}
            onChange=${(/** @type {any} */ e) => setShare((s) => (e.currentTarget.checked ? [...s, f] : s.filter((x) => x !== f)))} />
            <span>${t('incident.field.' + f)}</span></label>
          <p class="share-value prewrap" id=${'help-share-' + f}>${valueOf(chosen, f)}</p>
        </li>`)}
      </ul>
      <p class="muted" role="status" data-testid="share-count">${share.length === 0 ? t('help.sharingNone') : share.length === 1 ? t('help.sharingOne') : t('help.sharing', { n: share.length })}</p>
    </fieldset>`}
    <p class="notice">${t('help.afterwards')}</p>
    <div class="actions">
      <button class="primary" type="submit" disabled=${busy}>${busy ? t('safety.sending') : t('help.submit')}</button>
      <a class="button secondary" href=${incident ? '#/incident/' + incident.id : '#/help-requests'}>${t('safety.cancel')}</a>
    </div>
  </form>`;
}
