// Suspensions: security's list (status and scope, from when until when),
// recording one, changing its end, notice or appeal, lifting it early; and
// what a branch's staff see of the suspensions in force there (who, where,
// until when: nothing else). Online only.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { uuidv7 } from '../lib/uuid.js';
import { ErrorSummary, useFocusHeading } from './ui.js';
import {
  APPEALS, Choice, LoadNotice, NOTIFIED, OfflineNote, SUSPENSION_STATUSES, Select, Text,
  branchName, directory, fromLocal, go, ifMatch, incidentLabel, lengthOf, localInput, me, recentIncidents,
  refusal, setFlash, staffName, useFlash, useLoad, useOnline, when,
} from './safety-common.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {import('./safety-common.js').Directory} Directory */

/** Where a suspension applies, in words. @param {{scope: string, branch_id?: string}} s @param {Directory | undefined} dir */
const scopeOf = (s, dir) => (s.scope === 'system_wide' ? t('suspension.scope.system_wide') : t('suspension.scope.branchNamed', { branch: branchName(dir, s.branch_id) }));

/** @param {{status: string}} props */
const StatusBadge = ({ status }) => html`<span class=${'badge suspension-' + status}>${t('suspension.status.' + status)}</span>`;

const FIRST_FILTER = { status: 'active', branch: '' };
/** The last filter, to come back to: in memory only, for the account that chose it. */
let lastFilter = { owner: '', filter: FIRST_FILTER };

/** Security's suspensions, newest first, by status and branch. @param {any} _props */
export function Suspensions(_props) {
  const heading = useFocusHeading();
  const [filter, setFilter] = useState(lastFilter.owner === me().id ? lastFilter.filter : FIRST_FILTER);
  const [more, setMore] = useState(/** @type {{items: Schemas['SuspensionOut'][], cursor?: string}} */ ({ items: [] }));
  const dir = useLoad(directory, 'dir');
  const query = () => {
    /** @type {Record<string, string | number>} */
    const q = { limit: 50 };
    if (filter.status) q.status = filter.status;
    if (filter.branch) q.branch_id = filter.branch;
    return /** @type {any} */ (q);
  };
  const list = useLoad(() => api('get', '/v1/suspensions', { query: query() }), 'suspensions:' + JSON.stringify(filter));
  const change = (/** @type {string} */ k) => (/** @type {string} */ v) => {
    const next = { ...filter, [k]: v };
    lastFilter = { owner: me().id, filter: next };
    setMore({ items: [] });
    setFilter(next);
  };
  async function loadMore() {
    const cursor = more.cursor ?? list.data?.next_cursor;
    if (!cursor) return;
    try {
      const page = await api('get', '/v1/suspensions', { query: { ...query(), cursor } });
      setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.next_cursor ?? '' }));
    } catch {
      list.retry();
    }
  }
  const items = [...(list.data?.items ?? []), ...more.items];
  const hasMore = more.cursor === undefined ? !!list.data?.next_cursor : !!more.cursor;
  return html`<main id="main" class="safety suspensions">
    <h1 tabindex="-1" ref=${heading}>${t('suspension.title')}</h1>
    <${OfflineNote} />
    <p class="lead">${t('suspension.lead')}</p>
    <div class="actions top-actions"><a class="button primary" href="#/suspension/new">${t('suspension.newTitle')}</a></div>
    <div class="safety-grid safety-filters" role="group" aria-label=${t('suspension.filters')}>
      <${Select} id="susp-filter-status" field="status" label=${t('suspension.status')} value=${filter.status} set=${change('status')} errors=${[]}
        options=${SUSPENSION_STATUSES.map((s) => [s, t('suspension.status.' + s)])} empty=${t('suspension.anyStatus')} />
      <${Select} id="susp-filter-branch" field="branch" label=${t('suspension.branchFilter')} hint=${t('suspension.branchFilterHint')} value=${filter.branch} set=${change('branch')} errors=${[]}
        options=${(dir.data?.branches ?? []).map((b) => [b.id, b.name])} empty=${t('suspension.anyBranch')} />
    </div>
    ${!list.data && html`<${LoadNotice} state=${list.state} retry=${list.retry} />`}
    ${list.data && html`<p role="status" data-testid="suspension-count">${items.length === 0 ? t('suspension.none') : items.length === 1 ? t('suspension.countOne') : t('suspension.count', { n: items.length })}</p>
      <ul class="list suspension-list">${items.map((s) => html`<li class="item" key=${s.id} data-testid="suspension-item">
        <div class="item-head">
          <a class="item-title" href=${'#/suspension/' + s.id}>${s.person}</a>
          <${StatusBadge} status=${s.status} />
        </div>
        <dl class="facts">
          <div><dt>${t('suspension.where')}</dt><dd>${scopeOf(s, dir.data)}</dd></div>
          <div><dt>${t('suspension.from')}</dt><dd>${when(s.starts_at)}</dd></div>
          <div><dt>${t('suspension.until')}</dt><dd>${when(s.ends_at)}</dd></div>
        </dl>
      </li>`)}</ul>
      ${hasMore && html`<button type="button" class="secondary" onClick=${loadMore}>${t('suspension.more')}</button>`}`}
  </main>`;
}

/**
 * Record a suspension, optionally from an incident.
 * @param {{incidentId?: string}} props
 */
export function NewSuspension({ incidentId }) {
  const heading = useFocusHeading();
  const { state, data, retry } = useLoad(async () => {
    const [dir, incident] = await Promise.all([directory(), incidentId ? api('get', '/v1/incidents/{id}', { params: { id: incidentId } }) : Promise.resolve(undefined)]);
    return { dir, incident };
  }, 'new-suspension:' + (incidentId ?? ''));
  return html`<main id="main" class="form-screen safety">
    <h1 tabindex="-1" ref=${heading}>${t('suspension.newTitle')}</h1>
    <p class="lead">${t('suspension.newLead')}</p>
    <${OfflineNote} />
    ${data ? html`<${SuspensionForm} dir=${data.dir} incident=${data.incident} />` : html`<${LoadNotice} state=${state} retry=${retry} />`}
  </main>`;
}

/** @param {{dir: Directory, incident?: Schemas['IncidentOut']}} props */
function SuspensionForm({ dir, incident }) {
  const [key] = useState(() => uuidv7());
  const [person, setPerson] = useState('');
  const [scope, setScope] = useState('branch');
  const [branch, setBranch] = useState(incident?.branch_id ?? '');
  const [starts, setStarts] = useState('');
  const [ends, setEnds] = useState('');
  const [reason, setReason] = useState('');
  const [notified, setNotified] = useState('');
  const [linked, setLinked] = useState(incident?.id ?? '');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const online = useOnline();
  const recent = useLoad(() => (incident ? Promise.resolve([incident]) : recentIncidents(scope === 'branch' ? branch : '')), 'recent:' + scope + branch + (incident?.id ?? ''));

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const found = [];
    const add = (/** @type {string} */ field, /** @type {string} */ message) => found.push({ field, message });
    if (!person.trim()) add('person', t('suspension.err.person'));
    else if (lengthOf(person) > 200) add('person', t('suspension.err.personLong'));
    if (scope === 'branch' && !branch) add('branch_id', t('suspension.err.branch'));
    const startIso = starts ? fromLocal(starts) : '';
    if (starts && !startIso) add('starts_at', t('suspension.err.starts'));
    const endIso = fromLocal(ends);
    if (!endIso) add('ends_at', t('suspension.err.ends'));
    else if (Date.parse(endIso) <= (startIso ? Date.parse(startIso) : Date.now())) add('ends_at', t('suspension.err.endsAfter'));
    if (!reason.trim()) add('reason', t('suspension.err.reason'));
    else if (lengthOf(reason) > 2000) add('reason', t('suspension.err.reasonLong'));
    if (!notified) add('notified_how', t('suspension.err.notified'));
    if (!found.length && !online) add('person', t('safety.err.offline'));
    setErrors(found);
    if (found.length) return;
    setBusy(true);
    try {
      const made = await api('post', '/v1/suspensions', {
        headers: { 'Idempotency-Key': key },
        body: {
          id: key,
          person: person.trim(),
          scope: /** @type {Schemas['SuspensionScope']} */ (scope),
          ...(scope === 'branch' ? { branch_id: branch } : {}),
          ...(startIso ? { starts_at: startIso } : {}),
          ends_at: endIso,
          reason: reason.trim(),
          notified_how: /** @type {Schemas['NotifiedHow']} */ (notified),
          ...(linked ? { incident_id: linked } : {}),
        },
      });
      setFlash(t('suspension.recorded'));
      go('suspension/' + made.id);
    } catch (e) {
      setErrors(refusal(e, 'person'));
    } finally {
      setBusy(false);
    }
  }
  const labels = {
    person: t('suspension.person'), scope: t('suspension.scope'), branch_id: t('suspension.branch'), starts_at: t('suspension.starts'),
    ends_at: t('suspension.ends'), reason: t('suspension.reason'), notified_how: t('suspension.notified'), incident_id: t('suspension.incident'),
  };
  const incidents = /** @type {[string, string][]} */ ((recent.data ?? []).map((i) => [i.id, incidentLabel(i, dir)]));
  return html`<form onSubmit=${submit} novalidate>
    <${ErrorSummary} errors=${errors} prefix="susp" labels=${labels} />
    <${Text} id="susp-person" field="person" label=${t('suspension.person')} hint=${t('suspension.personHint')} value=${person} set=${setPerson} errors=${errors} />
    <${Choice} id="susp-scope" field="scope" legend=${t('suspension.scope')} options=${['branch', 'system_wide']}
      label=${(/** @type {string} */ v) => t('suspension.scope.' + v)} value=${scope} set=${setScope} errors=${errors} />
    ${scope === 'branch' && html`<${Select} id="susp-branch_id" field="branch_id" label=${t('suspension.branch')} value=${branch} set=${setBranch} errors=${errors}
      options=${dir.branches.map((b) => [b.id, b.name])} empty=${t('incident.chooseBranch')} />`}
    <${Text} id="susp-starts_at" field="starts_at" label=${t('suspension.starts')} hint=${t('suspension.startsHint')} type="datetime-local" value=${starts} set=${setStarts} errors=${errors} />
    <${Text} id="susp-ends_at" field="ends_at" label=${t('suspension.ends')} hint=${t('suspension.endsHint')} type="datetime-local" value=${ends} set=${setEnds} errors=${errors}
      extra=${{ min: localInput(new Date()) }} />
    <${Text} id="susp-reason" field="reason" label=${t('suspension.reason')} value=${reason} set=${setReason} errors=${errors} multi=${true} rows=${3} />
    <${Choice} id="susp-notified_how" field="notified_how" legend=${t('suspension.notified')} options=${NOTIFIED}
      label=${(/** @type {string} */ v) => t('suspension.notified.' + v)} value=${notified} set=${setNotified} errors=${errors} />
    ${recent.data
      ? html`<${Select} id="susp-incident_id" field="incident_id" label=${t('suspension.incident')} hint=${t('suspension.incidentHint')} value=${linked} set=${setLinked}
          errors=${errors} options=${incidents} empty=${t('suspension.noIncident')} />`
      : html`<${LoadNotice} state=${recent.state} retry=${recent.retry} />`}
    <div class="actions">
      <button class="primary" type="submit" disabled=${busy}>${busy ? t('safety.sending') : t('suspension.submit')}</button>
      <a class="button secondary" href="#/suspensions">${t('safety.cancel')}</a>
    </div>
  </form>`;
}

/** One suspension: its facts, a change (end, notice, appeal) and lifting it. @param {{id: string}} props */
export function SuspensionView({ id }) {
  const heading = useFocusHeading();
  const flash = useFlash();
  const [message, setMessage] = useState(flash);
  const [mode, setMode] = useState(/** @type {'' | 'change' | 'lift'} */ (''));
  const { state, data, retry } = useLoad(async () => {
    const [s, dir] = await Promise.all([api('get', '/v1/suspensions/{id}', { params: { id } }), directory()]);
    return { s, dir };
  }, 'suspension:' + id);
  const s = data?.s;
  const done = (/** @type {string} */ m) => { setMode(''); setMessage(m); retry(); };
  const changeable = s && s.status !== 'lifted';
  const liftable = s && (s.status === 'active' || s.status === 'scheduled');
  return html`<main id="main" class="safety suspension-view">
    <h1 tabindex="-1" ref=${heading}>${s ? t('suspension.viewTitle', { person: s.person }) : t('suspension.viewTitleLoading')}</h1>
    <${OfflineNote} />
    ${message && html`<p class="confirmation" role="status" data-testid="flash">${message}</p>`}
    ${!data && html`<${LoadNotice} state=${state} retry=${retry} />`}
    ${s && data && html`
      <dl class="facts" data-testid="suspension-facts">
        <div><dt>${t('suspension.status')}</dt><dd><${StatusBadge} status=${s.status} /></dd></div>
        <div><dt>${t('suspension.where')}</dt><dd>${scopeOf(s, data.dir)}</dd></div>
        <div><dt>${t('suspension.from')}</dt><dd>${when(s.starts_at)}</dd></div>
        <div><dt>${t('suspension.until')}</dt><dd>${when(s.ends_at)}</dd></div>
        <div><dt>${t('suspension.reason')}</dt><dd class="prewrap">${s.reason}</dd></div>
        <div><dt>${t('suspension.notified')}</dt><dd>${t('suspension.notified.' + s.notified_how)}</dd></div>
        <div><dt>${t('suspension.appeal')}</dt><dd>${t('suspension.appeal.' + s.appeal_status)}</dd></div>
        ${s.appeal_decision && html`<div><dt>${t('suspension.decision')}</dt><dd class="prewrap">${s.appeal_decision}</dd></div>`}
        <div><dt>${t('suspension.incident')}</dt><dd>${s.incident_id ? html`<a href=${'#/incident/' + s.incident_id}>${t('suspension.seeIncident')}</a>` : t('suspension.noIncident')}</dd></div>
        ${s.lifted_at && html`<div><dt>${t('suspension.liftedAt')}</dt><dd>${t('suspension.liftedBy', { when: when(s.lifted_at), who: staffName(data.dir, s.lifted_by) })}</dd></div>`}
        ${s.lift_reason && html`<div><dt>${t('suspension.liftReason')}</dt><dd class="prewrap">${s.lift_reason}</dd></div>`}
        <div><dt>${t('suspension.recordedBy')}</dt><dd>${t('incident.byAt', { who: staffName(data.dir, s.created_by), when: when(s.created_at) })}</dd></div>
      </dl>
      ${mode === '' && html`<div class="actions">
        ${changeable && html`<button type="button" class="primary" onClick=${() => { setMessage(''); setMode('change'); }}>${t('suspension.change')}</button>`}
        ${liftable && html`<button type="button" class="secondary" onClick=${() => { setMessage(''); setMode('lift'); }}>${t('suspension.lift')}</button>`}
        <a class="button secondary" href="#/suspensions">${t('suspension.toList')}</a>
      </div>`}
      ${mode === 'change' && html`<${ChangeSuspension} s=${s} done=${done} cancel=${() => setMode('')} />`}
      ${mode === 'lift' && html`<${LiftSuspension} s=${s} done=${done} cancel=${() => setMode('')} />`}`}
  </main>`;
}

/** @param {{s: Schemas['SuspensionOut'], done: (m: string) => void, cancel: () => void}} props */
function ChangeSuspension({ s, done, cancel }) {
  const [ends, setEnds] = useState(localInput(new Date(s.ends_at)));
  const [notified, setNotified] = useState(/** @type {string} */ (s.notified_how));
  const [appeal, setAppeal] = useState(/** @type {string} */ (s.appeal_status));
  const [decision, setDecision] = useState(s.appeal_decision ?? '');
  const [reason, setReason] = useState(s.reason);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const online = useOnline();
  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const found = [];
    const endIso = fromLocal(ends);
    if (!endIso) found.push({ field: 'ends_at', message: t('suspension.err.ends') });
    else if (Date.parse(endIso) <= Date.parse(s.starts_at)) found.push({ field: 'ends_at', message: t('suspension.err.endsAfter') });
    if (!reason.trim()) found.push({ field: 'reason', message: t('suspension.err.reason') });
    if (lengthOf(decision) > 2000) found.push({ field: 'appeal_decision', message: t('suspension.err.decisionLong') });
    if (!found.length && !online) found.push({ field: 'ends_at', message: t('safety.err.offline') });
    setErrors(found);
    if (found.length) return;
    setBusy(true);
    try {
      await api('patch', '/v1/suspensions/{id}', {
        params: { id: s.id },
        headers: ifMatch(s.version),
        body: {
          ends_at: endIso,
          reason: reason.trim(),
          notified_how: /** @type {Schemas['NotifiedHow']} */ (notified),
          appeal_status: /** @type {Schemas['AppealStatus']} */ (appeal),
          appeal_decision: decision.trim(),
        },
      });
      done(t('suspension.changed'));
    } catch (e) {
      setErrors(refusal(e, 'ends_at'));
    } finally {
      setBusy(false);
    }
  }
  const labels = { ends_at: t('suspension.ends'), reason: t('suspension.reason'), notified_how: t('suspension.notified'), appeal_status: t('suspension.appeal'), appeal_decision: t('suspension.decision') };
  return html`<section aria-labelledby="susp-change-title" class="safety-panel">
    <h2 id="susp-change-title">${t('suspension.change')}</h2>
    <${ErrorSummary} errors=${errors} prefix="suspc" labels=${labels} />
    <form onSubmit=${submit} novalidate>
      <${Text} id="suspc-ends_at" field="ends_at" label=${t('suspension.ends')} hint=${t('suspension.endsHint')} type="datetime-local" value=${ends} set=${setEnds} errors=${errors} />
      <${Text} id="suspc-reason" field="reason" label=${t('suspension.reason')} value=${reason} set=${setReason} errors=${errors} multi=${true} rows=${3} />
      <${Choice} id="suspc-notified_how" field="notified_how" legend=${t('suspension.notified')} options=${NOTIFIED}
        label=${(/** @type {string} */ v) => t('suspension.notified.' + v)} value=${notified} set=${setNotified} errors=${errors} />
      <${Choice} id="suspc-appeal_status" field="appeal_status" legend=${t('suspension.appeal')} options=${APPEALS}
        label=${(/** @type {string} */ v) => t('suspension.appeal.' + v)} value=${appeal} set=${setAppeal} errors=${errors} />
      <${Text} id="suspc-appeal_decision" field="appeal_decision" label=${t('suspension.decision')} hint=${t('suspension.decisionHint')} value=${decision} set=${setDecision} errors=${errors} multi=${true} rows=${3} />
      <div class="actions">
        <button class="primary" type="submit" disabled=${busy}>${busy ? t('safety.sending') : t('suspension.save')}</button>
        <button class="secondary" type="button" onClick=${cancel}>${t('safety.cancel')}</button>
      </div>
    </form>
  </section>`;
}

/** @param {{s: Schemas['SuspensionOut'], done: (m: string) => void, cancel: () => void}} props */
function LiftSuspension({ s, done, cancel }) {
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const online = useOnline();
  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const found = [];
    if (!reason.trim()) found.push({ field: 'reason', message: t('suspension.err.liftReason') });
    else if (lengthOf(reason) > 2000) found.push({ field: 'reason', message: t('suspension.err.reasonLong') });
    else if (!online) found.push({ field: 'reason', message: t('safety.err.offline') });
    setErrors(found);
    if (found.length) return;
    setBusy(true);
    try {
      await api('post', '/v1/suspensions/{id}/lift', { params: { id: s.id }, headers: ifMatch(s.version), body: { reason: reason.trim() } });
      done(t('suspension.lifted'));
    } catch (e) {
      setErrors(refusal(e, 'reason'));
    } finally {
      setBusy(false);
    }
  }
  return html`<section aria-labelledby="susp-lift-title" class="safety-panel">
    <h2 id="susp-lift-title">${t('suspension.lift')}</h2>
    <p>${t('suspension.liftLead')}</p>
    <${ErrorSummary} errors=${errors} prefix="suspl" labels=${{ reason: t('suspension.liftReason') }} />
    <form onSubmit=${submit} novalidate>
      <${Text} id="suspl-reason" field="reason" label=${t('suspension.liftReason')} value=${reason} set=${setReason} errors=${errors} multi=${true} rows=${3} />
      <div class="actions">
        <button class="danger" type="submit" disabled=${busy}>${busy ? t('safety.sending') : t('suspension.liftSubmit')}</button>
        <button class="secondary" type="button" onClick=${cancel}>${t('safety.cancel')}</button>
      </div>
    </form>
  </section>`;
}

/** What a branch's staff see: the suspensions in force there now. @param {any} _props */
export function CurrentSuspensions(_props) {
  const heading = useFocusHeading();
  const { state, data, retry } = useLoad(async () => {
    const dir = await directory();
    const mine = me().branches;
    const branches = dir.branches.filter((b) => mine.includes(b.id));
    const lists = await Promise.all(branches.map(async (b) => {
      /** @type {Schemas['ActiveSuspensionOut'][]} */
      const items = [];
      /** @type {string | undefined} */
      let cursor;
      do {
        /** @type {{limit: number, cursor?: string}} */
        const query = { limit: 200 };
        if (cursor) query.cursor = cursor;
        const page = await api('get', '/v1/branches/{id}/suspensions/active', { params: { id: b.id }, query });
        items.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return { branch: b, items };
    }));
    return lists;
  }, 'current');
  return html`<main id="main" class="safety current-suspensions">
    <h1 tabindex="-1" ref=${heading}>${t('suspension.currentTitle')}</h1>
    <${OfflineNote} />
    <p class="lead">${t('suspension.currentLead')}</p>
    ${!data && html`<${LoadNotice} state=${state} retry=${retry} />`}
    ${data && data.length === 0 && html`<p>${t('suspension.noBranches')}</p>`}
    ${data && data.map(({ branch, items }) => html`<section aria-labelledby=${'cur-' + branch.id} data-testid="branch-suspensions">
      <h2 id=${'cur-' + branch.id}>${branch.name}</h2>
      ${items.length === 0
        ? html`<p class="muted">${t('suspension.noneHere')}</p>`
        : html`<div class="table-wrap"><table class="data current-table">
          <caption class="visually-hidden">${t('suspension.currentCaption', { branch: branch.name })}</caption>
          <thead><tr><th scope="col">${t('suspension.person')}</th><th scope="col">${t('suspension.where')}</th><th scope="col">${t('suspension.until')}</th></tr></thead>
          <tbody>${items.map((s) => html`<tr data-testid="current-suspension">
            <th scope="row">${s.person}</th>
            <td>${s.scope === 'system_wide' ? t('suspension.scope.system_wide') : t('suspension.scope.thisBranch')}</td>
            <td>${when(s.ends_at)}</td>
          </tr>`)}</tbody>
        </table></div>`}
    </section>`)}
    ${data && html`<button type="button" class="secondary refresh" onClick=${retry}>${t('suspension.refresh')}</button>`}
  </main>`;
}
