// Incidents: reporting one (category, rule of behavior, action taken,
// responders with the part each played, resolution, police call), reading
// and printing it, changing it within its 24-hour edit window, amending it
// after, and searching them. Online only: every screen asks the server.
import { useEffect, useRef, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { uuidv7 } from '../lib/uuid.js';
import { ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';
import {
  ACTIONS, CATEGORIES, Choice, FRONT_LINE, LoadNotice, OfflineNote, PARTS, RESOLUTIONS, Select, Text,
  branchName, day, directory, excerpt, fromLocal, go, ifMatch, lengthOf, localInput, me, myBranches, refusal,
  setFlash, staffName, useFlash, useFocusWhen, useLoad, useOnline, when,
} from './safety-common.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {import('./safety-common.js').Directory} Directory */
/** @typedef {{key: string, who: string, outside: string, part: string}} Responder */

const OUTSIDE = 'outside';
let responderKeys = 0;
const newResponder = () => ({ key: 'r' + ++responderKeys, who: '', outside: '', part: '' });

/** Whether the caller may change or amend a report: security, or its author. @param {Schemas['IncidentOut']} i */
const mayChange = (i) => me().role === 'security' || i.created_by === me().id;
/** Whether the report is still inside its edit window (read on this device's clock). @param {Schemas['IncidentOut']} i */
const editOpen = (i) => Date.now() < Date.parse(i.editable_until);

/** An incident and the directory, for the screens of one incident. @param {string} id */
async function incidentAndDirectory(id) {
  const [incident, dir] = await Promise.all([api('get', '/v1/incidents/{id}', { params: { id } }), directory()]);
  return { incident, dir };
}

/**
 * Report an incident (no `id`), or change one within its edit window.
 * @param {{id?: string}} props
 */
export function ReportIncident({ id }) {
  const heading = useFocusHeading();
  const { state, data, retry } = useLoad(async () => (id ? incidentAndDirectory(id) : { incident: undefined, dir: await directory() }), 'report:' + (id ?? ''));
  const title = id ? t('incident.editTitle') : t('incident.newTitle');
  let body;
  if (!data) body = html`<${LoadNotice} state=${state} retry=${retry} />`;
  else if (data.incident && !(mayChange(data.incident) && editOpen(data.incident))) {
    body = html`<div class="notice" role="status" data-testid="edit-closed">
      <p>${mayChange(data.incident) ? t('incident.closedSince', { when: when(data.incident.editable_until) }) : t('incident.notYours')}</p>
      ${mayChange(data.incident) && html`<a class="button primary" href=${'#/incident/' + id + '/amend'}>${t('incident.amend')}</a>`}
      <a class="button secondary" href=${'#/incident/' + id}>${t('incident.back')}</a>
    </div>`;
  } else body = html`<${IncidentForm} dir=${data.dir} existing=${data.incident} />`;
  return html`<main id="main" class="form-screen safety incident-form">
    <h1 tabindex="-1" ref=${heading}>${title}</h1>
    ${!id && html`<p class="lead">${t('incident.newLead')}</p>`}
    <${OfflineNote} />
    ${body}
  </main>`;
}

/**
 * @param {{dir: Directory, existing?: Schemas['IncidentOut']}} props
 */
function IncidentForm({ dir, existing }) {
  const branches = myBranches(dir);
  const [recordId] = useState(() => uuidv7());
  const [branch, setBranch] = useState(existing?.branch_id ?? (branches.length === 1 ? branches[0].id : ''));
  const [at, setAt] = useState(localInput(existing ? new Date(existing.occurred_at) : new Date()));
  const [category, setCategory] = useState(existing?.category ?? '');
  const [rule, setRule] = useState(existing?.rule_id ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [persons, setPersons] = useState(existing?.persons_involved ?? '');
  const [action, setAction] = useState(existing?.action_taken ?? '');
  const [responders, setResponders] = useState(/** @type {Responder[]} */ (
    existing ? existing.responders.map((r) => ({ ...newResponder(), who: r.staff_id ?? OUTSIDE, outside: r.outside ?? '', part: r.part })) : []));
  const [resolution, setResolution] = useState(existing?.resolution ?? '');
  const [policeTicked, setPoliceTicked] = useState(existing?.police_called ?? false);
  const [minutes, setMinutes] = useState(existing?.minutes_before_police === undefined ? '' : String(existing.minutes_before_police));
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const online = useOnline();
  const rules = useLoad(() => api('get', '/v1/rules', { query: { branch_id: branch } }), 'rules:' + branch);
  // Keyboards and screen readers follow the list: to a new responder's first
  // choice, or back to "Add a responder" after one is removed.
  const focusAfter = useRef(/** @type {'' | 'new' | 'add'} */ (''));
  useEffect(() => {
    const to = focusAfter.current;
    focusAfter.current = '';
    if (to === 'new') document.getElementById(`inc-r${responders.length - 1}who`)?.focus();
    if (to === 'add') document.getElementById('inc-add-responder')?.focus();
  }, [responders.length]);

  // Front-line accounts, and anyone the report already names (kept as they were).
  const named = new Set((existing?.responders ?? []).map((r) => r.staff_id));
  const people = dir.staff.filter((s) => (s.active && FRONT_LINE.includes(s.role)) || named.has(s.id));
  const person = (/** @type {string} */ sid) => dir.staff.find((s) => s.id === sid);
  const isPeer = (/** @type {Responder} */ r) => r.who !== OUTSIDE && person(r.who)?.role === 'peer';
  const policeForced = action === 'police_called' || resolution === 'police';
  const police = policeForced || policeTicked;

  /** @param {string} key @param {Partial<Responder>} change */
  function changeResponder(key, change) {
    setResponders((rs) => rs.map((r) => {
      if (r.key !== key) return r;
      const next = { ...r, ...change };
      // A peer is recorded only as offering support: the choice follows the person.
      if (change.who !== undefined && next.who !== OUTSIDE && person(next.who)?.role === 'peer') next.part = 'support';
      return next;
    }));
  }

  /** The form's own checks, before asking the server. @returns {FieldError[]} */
  function check() {
    /** @type {FieldError[]} */
    const found = [];
    const add = (/** @type {string} */ field, /** @type {string} */ message) => found.push({ field, message });
    if (!existing && !branch) add('branch_id', t('incident.err.branch'));
    const iso = fromLocal(at);
    if (!iso) add('occurred_at', t('incident.err.when'));
    else if (Date.parse(iso) > Date.now() + 86_400_000) add('occurred_at', t('incident.err.future'));
    if (!category) add('category', t('incident.err.category'));
    if (!description.trim()) add('description', t('incident.err.description'));
    else if (lengthOf(description) > 10_000) add('description', t('incident.err.descriptionLong'));
    if (lengthOf(persons) > 2000) add('persons_involved', t('incident.err.personsLong'));
    if (!action) add('action_taken', t('incident.err.action'));
    if (responders.length > 20) add('responders', t('incident.err.tooMany'));
    const seen = new Set();
    responders.forEach((r, i) => {
      const n = i + 1;
      if (!r.who) add(`r${i}who`, t('incident.err.who', { n }));
      else if (r.who === OUTSIDE) {
        if (!r.outside.trim()) add(`r${i}outside`, t('incident.err.outside', { n }));
        else if (lengthOf(r.outside) > 200) add(`r${i}outside`, t('incident.err.outsideLong', { n }));
      } else if (seen.has(r.who)) add(`r${i}who`, t('incident.err.twice', { n }));
      else seen.add(r.who);
      if (!r.part) add(`r${i}part`, t('incident.err.part', { n }));
      else if (isPeer(r) && r.part !== 'support') add(`r${i}part`, t('incident.err.peerPart', { n }));
    });
    if (police && minutes.trim() !== '') {
      const m = Number(minutes);
      if (!Number.isInteger(m) || m < 0 || m > 1440) add('minutes_before_police', t('incident.err.minutes'));
    }
    if (!found.length && !online) add(existing ? 'occurred_at' : 'branch_id', t('safety.err.offline'));
    return found;
  }

  /** A field pointer of the server as this form's field. @param {string} field @param {string} message */
  function mapField(field, message) {
    const m = /^responders\/(\d+)\/(\w+)/.exec(field);
    if (m) {
      const i = Number(m[1]);
      const n = i + 1;
      if (m[2] === 'part') return { field: `r${i}part`, message: responders[i] && isPeer(responders[i]) ? t('incident.err.peerPart', { n }) : t('incident.err.part', { n }) };
      if (m[2] === 'outside') return { field: `r${i}outside`, message: t('incident.err.outside', { n }) };
      return { field: `r${i}who`, message: t('incident.err.who', { n }) };
    }
    /** @type {Record<string, string>} */
    const ours = {
      branch_id: t('incident.err.branch'), occurred_at: t('incident.err.when'), category: t('incident.err.category'),
      description: t('incident.err.description'), action_taken: t('incident.err.action'), rule_id: t('incident.err.rule'),
      minutes_before_police: t('incident.err.minutesPolice'), editable_until: t('incident.err.windowClosed'),
    };
    const f = field.split('/')[0];
    return { field: f === 'editable_until' ? 'occurred_at' : f, message: ours[f] ?? message };
  }

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    const found = check();
    setErrors(found);
    if (found.length) return;
    const fields = {
      occurred_at: fromLocal(at),
      category: /** @type {Schemas['IncidentCategory']} */ (category),
      description: description.trim(),
      action_taken: /** @type {Schemas['ActionTaken']} */ (action),
      responders: responders.map((r) => /** @type {Schemas['ResponderIn']} */ (r.who === OUTSIDE
        ? { outside: r.outside.trim(), part: r.part }
        : { staff_id: r.who, part: r.part })),
      police_called: police,
      ...(resolution ? { resolution: /** @type {Schemas['ResolutionPath']} */ (resolution) } : {}),
      ...(police && minutes.trim() !== '' ? { minutes_before_police: Number(minutes) } : {}),
      ...(rule ? { rule_id: rule } : {}),
    };
    setBusy(true);
    try {
      if (existing) {
        const saved = await api('patch', '/v1/incidents/{id}', {
          params: { id: existing.id },
          headers: ifMatch(existing.version),
          body: { ...fields, persons_involved: persons.trim() },
        });
        setFlash(t('incident.saved'));
        go('incident/' + saved.id);
      } else {
        const made = await api('post', '/v1/incidents', {
          headers: { 'Idempotency-Key': recordId },
          body: { ...fields, id: recordId, branch_id: branch, ...(persons.trim() ? { persons_involved: persons.trim() } : {}) },
        });
        setFlash(t('incident.reported'));
        go('incident/' + made.id);
      }
    } catch (e) {
      setErrors(refusal(e, existing ? 'occurred_at' : 'branch_id', mapField));
    } finally {
      setBusy(false);
    }
  }

  /** @type {Record<string, string>} */
  const labels = {
    branch_id: t('incident.branch'), occurred_at: t('incident.when'), category: t('incident.category'), rule_id: t('incident.rule'),
    description: t('incident.description'), persons_involved: t('incident.persons'), action_taken: t('incident.action'),
    responders: t('incident.responders'), resolution: t('incident.resolution'), police_called: t('incident.police'),
    minutes_before_police: t('incident.minutes'),
  };
  responders.forEach((_, i) => {
    labels[`r${i}who`] = t('incident.responderN', { n: i + 1 });
    labels[`r${i}outside`] = t('incident.responderN', { n: i + 1 });
    labels[`r${i}part`] = t('incident.responderN', { n: i + 1 });
  });
  const ruleOptions = /** @type {[string, string][]} */ ((rules.data?.items ?? []).filter((r) => r.active || r.id === rule).map((r) => [r.id, t('incident.ruleOption', { code: r.code, text: r.text })]));

  return html`<form onSubmit=${submit} novalidate>
    <${ErrorSummary} errors=${errors} prefix="inc" labels=${labels} />
    ${existing
      ? html`<p class="facts-line"><strong>${t('incident.branch')}:</strong> ${branchName(dir, existing.branch_id)}</p>`
      : html`<${Select} id="inc-branch_id" field="branch_id" label=${t('incident.branch')} hint=${me().role === 'staff' ? t('incident.branchHintStaff') : undefined}
          value=${branch} set=${(/** @type {string} */ v) => { setBranch(v); setRule(''); }} errors=${errors}
          options=${branches.map((b) => [b.id, b.name])} empty=${t('incident.chooseBranch')} />`}
    <${Text} id="inc-occurred_at" field="occurred_at" label=${t('incident.when')} hint=${t('incident.whenHint')} type="datetime-local"
      value=${at} set=${setAt} errors=${errors} extra=${{ max: localInput(new Date(Date.now() + 86_400_000)) }} />
    <${Choice} id="inc-category" field="category" legend=${t('incident.category')} options=${CATEGORIES}
      label=${(/** @type {string} */ v) => t('incident.category.' + v)} value=${category} set=${setCategory} errors=${errors} />
    ${branch && (rules.data
      ? html`<${Select} id="inc-rule_id" field="rule_id" label=${t('incident.rule')} hint=${t('incident.ruleHint')} value=${rule} set=${setRule}
          errors=${errors} options=${ruleOptions} empty=${t('incident.noRule')} />`
      : html`<div class="field"><p class="label-like">${t('incident.rule')}</p><${LoadNotice} state=${rules.state} retry=${rules.retry} /></div>`)}
    <${Text} id="inc-description" field="description" label=${t('incident.description')} hint=${t('incident.descriptionHint')}
      value=${description} set=${setDescription} errors=${errors} multi=${true} rows=${6} />
    <${Text} id="inc-persons_involved" field="persons_involved" label=${t('incident.persons')} hint=${t('incident.personsHint')}
      value=${persons} set=${setPersons} errors=${errors} multi=${true} rows=${2} />
    <${Choice} id="inc-action_taken" field="action_taken" legend=${t('incident.action')} options=${ACTIONS}
      label=${(/** @type {string} */ v) => t('incident.action.' + v)} value=${action} set=${setAction} errors=${errors} />

    <fieldset class=${'field responders' + (errorFor(errors, 'responders') ? ' has-error' : '')} id="inc-responders" tabindex="-1" aria-describedby="inc-responders-hint">
      <legend>${t('incident.responders')}</legend>
      <p class="hint" id="inc-responders-hint">${t('incident.respondersHint')}</p>
      <${FieldMessage} id="inc-responders" message=${errorFor(errors, 'responders')} />
      ${responders.length === 0 && html`<p class="muted">${t('incident.noResponders')}</p>`}
      <ol class="responder-list">
        ${responders.map((r, i) => html`<${ResponderRow} key=${r.key} r=${r} i=${i} people=${people} peer=${isPeer(r)}
          errors=${errors} change=${(/** @type {Partial<Responder>} */ c) => changeResponder(r.key, c)}
          remove=${() => { focusAfter.current = 'add'; setResponders((rs) => rs.filter((x) => x.key !== r.key)); }} />`)}
      </ol>
      ${responders.length < 20 && html`<button type="button" class="secondary" id="inc-add-responder"
        onClick=${() => { focusAfter.current = 'new'; setResponders((rs) => [...rs, newResponder()]); }}>${t('incident.addResponder')}</button>`}
    </fieldset>

    <${Choice} id="inc-resolution" field="resolution" legend=${t('incident.resolution')} hint=${t('incident.resolutionHint')} options=${RESOLUTIONS}
      label=${(/** @type {string} */ v) => t('incident.resolution.' + v)} value=${resolution} set=${setResolution} errors=${errors}
      optional=${existing?.resolution ? undefined : t('incident.resolution.notSaid')} />
    <fieldset class=${'field police' + (errorFor(errors, 'minutes_before_police') ? ' has-error' : '')} id="inc-police_called" tabindex="-1">
      <legend>${t('incident.police')}</legend>
      <label class="check"><input type="checkbox" id="inc-police-box" checked=${police} disabled=${policeForced}
        aria-describedby=${policeForced ? 'inc-police-forced' : undefined}
        onChange=${(/** @type {any} */ e) => setPoliceTicked(e.currentTarget.checked)} /><span>${t('incident.policeCalled')}</span></label>
      ${policeForced && html`<p class="hint" id="inc-police-forced">${t('incident.policeForced')}</p>`}
      ${police && html`<${Text} id="inc-minutes_before_police" field="minutes_before_police" label=${t('incident.minutes')} hint=${t('incident.minutesHint')}
        type="number" value=${minutes} set=${setMinutes} errors=${errors} extra=${{ min: 0, max: 1440, step: 1, inputmode: 'numeric', class: 'short' }} />`}
    </fieldset>
    <div class="actions">
      <button class="primary" type="submit" disabled=${busy}>${busy ? t('safety.sending') : existing ? t('incident.saveChanges') : t('incident.submit')}</button>
      ${existing && html`<a class="button secondary" href=${'#/incident/' + existing.id}>${t('safety.cancel')}</a>`}
    </div>
  </form>`;
}

/**
 * One responder: who (a staff member or someone from outside) and the part
 * they played, with the peer rule said where the part is chosen.
 * @param {{r: Responder, i: number, people: Schemas['StaffOut'][], peer: boolean, errors: FieldError[],
 *   change: (c: Partial<Responder>) => void, remove: () => void}} props
 */
function ResponderRow({ r, i, people, peer, errors, change, remove }) {
  const n = i + 1;
  const id = `inc-r${i}`;
  const whoErr = errorFor(errors, `r${i}who`);
  const partErr = errorFor(errors, `r${i}part`);
  return html`<li class="responder" data-testid="responder">
    <fieldset>
      <legend>${t('incident.responderN', { n })}</legend>
      <div class=${'field' + (whoErr ? ' has-error' : '')}>
        <label for=${id + 'who'}>${t('incident.responderWho')}</label>
        <${FieldMessage} id=${id + 'who'} message=${whoErr} />
        <select id=${id + 'who'} value=${r.who} aria-describedby=${whoErr ? id + 'who-error' : undefined}
          onChange=${(/** @type {any} */ e) => change({ who: e.currentTarget.value })}>
          <option value="">${t('incident.chooseResponder')}</option>
          <optgroup label=${t('incident.staffGroup')}>
            ${people.map((s) => html`<option value=${s.id} selected=${s.id === r.who}>${t('incident.staffOption', { name: s.display_name, role: t('incident.role.' + (s.role === 'supervisor' ? 'social_worker' : s.role)) })}</option>`)}
          </optgroup>
          <option value=${OUTSIDE} selected=${r.who === OUTSIDE}>${t('incident.outsideOption')}</option>
        </select>
      </div>
      ${r.who === OUTSIDE && html`<${Text} id=${id + 'outside'} field=${`r${i}outside`} label=${t('incident.outsideWho')} hint=${t('incident.outsideHint')}
        value=${r.outside} set=${(/** @type {string} */ v) => change({ outside: v })} errors=${errors} />`}
      <fieldset class=${'field choice' + (partErr ? ' has-error' : '')} id=${id + 'part'} tabindex="-1"
        aria-describedby=${[id + 'part-hint', partErr ? id + 'part-error' : ''].filter(Boolean).join(' ')}>
        <legend>${t('incident.part')}</legend>
        <p class=${'hint' + (peer ? ' peer-rule' : '')} id=${id + 'part-hint'} data-testid="peer-rule">${peer ? t('incident.peerChosen') : t('incident.peerRule')}</p>
        <${FieldMessage} id=${id + 'part'} message=${partErr} />
        <div class="toggles">
          ${PARTS.map((p) => html`<label class=${'toggle' + (peer && p !== 'support' ? ' disabled' : '')}><input type="radio" name=${id + 'part'} value=${p}
            checked=${r.part === p} disabled=${peer && p !== 'support'} onChange=${() => change({ part: p })} /><span>${t('incident.part.' + p)}</span></label>`)}
        </div>
      </fieldset>
      <button type="button" class="secondary small" onClick=${remove}>${t('incident.removeResponder', { n })}</button>
    </fieldset>
  </li>`;
}

/** @param {{i: Schemas['IncidentOut'], dir: Directory, rules: Schemas['RuleOut'][]}} props */
export function IncidentFacts({ i, dir, rules }) {
  const rule = i.rule_id ? rules.find((r) => r.id === i.rule_id) : undefined;
  return html`<dl class="facts incident-facts" data-testid="incident-facts">
    <div><dt>${t('incident.branch')}</dt><dd>${branchName(dir, i.branch_id)}</dd></div>
    <div><dt>${t('incident.when')}</dt><dd>${when(i.occurred_at)}</dd></div>
    <div><dt>${t('incident.category')}</dt><dd>${t('incident.category.' + i.category)}</dd></div>
    <div><dt>${t('incident.rule')}</dt><dd>${rule ? t('incident.ruleOption', { code: rule.code, text: rule.text }) : i.rule_id ? t('incident.ruleUnknown') : t('incident.noRuleShown')}</dd></div>
    <div><dt>${t('incident.description')}</dt><dd class="prewrap" data-testid="incident-description">${i.description}</dd></div>
    <div><dt>${t('incident.persons')}</dt><dd class="prewrap">${i.persons_involved || t('incident.nonePersons')}</dd></div>
    <div><dt>${t('incident.action')}</dt><dd>${t('incident.action.' + i.action_taken)}</dd></div>
    <div><dt>${t('incident.resolution')}</dt><dd>${i.resolution ? t('incident.resolution.' + i.resolution) : t('incident.resolution.notSaid')}</dd></div>
    <div><dt>${t('incident.police')}</dt><dd data-testid="incident-police">${i.police_called
      ? i.minutes_before_police === undefined ? t('incident.policeYes') : t('incident.policeAfter', { n: i.minutes_before_police })
      : t('incident.policeNo')}</dd></div>
    <div><dt>${t('incident.reportedBy')}</dt><dd>${t('incident.byAt', { who: staffName(dir, i.created_by), when: when(i.created_at) })}</dd></div>
  </dl>`;
}

/** @param {{i: Schemas['IncidentOut'], dir: Directory}} props */
function Responders({ i, dir }) {
  if (!i.responders.length) return html`<p class="muted">${t('incident.noResponders')}</p>`;
  return html`<div class="table-wrap"><table class="data responders-table" data-testid="responders">
    <caption class="visually-hidden">${t('incident.responders')}</caption>
    <thead><tr>
      <th scope="col">${t('incident.col.who')}</th><th scope="col">${t('incident.col.role')}</th>
      <th scope="col">${t('incident.col.part')}</th><th scope="col">${t('incident.col.certified')}</th>
    </tr></thead>
    <tbody>${i.responders.map((r) => html`<tr>
      <th scope="row">${r.staff_id ? staffName(dir, r.staff_id) : r.outside}</th>
      <td>${t('incident.role.' + r.role)}</td>
      <td>${t('incident.part.' + r.part)}</td>
      <td>${r.role === 'outside' ? t('incident.certifiedNa') : r.certified ? t('incident.certifiedYes') : t('incident.certifiedNo')}</td>
    </tr>`)}</tbody>
  </table></div>`;
}

/** @param {{i: Schemas['IncidentOut'], dir: Directory}} props */
function Amendments({ i, dir }) {
  const list = i.amendments ?? [];
  return html`<section aria-labelledby="inc-amendments-title" class="amendments">
    <h2 id="inc-amendments-title">${t('incident.amendments')}</h2>
    ${list.length
      ? html`<ol class="list">${list.map((a) => html`<li class="item amendment" data-testid="amendment">
          <p class="amendment-head"><strong>${t('incident.amendmentBy', { who: staffName(dir, a.created_by), when: when(a.created_at) })}</strong></p>
          <p class="prewrap">${a.text}</p>
        </li>`)}</ol>`
      : html`<p class="muted">${t('incident.noAmendments')}</p>`}
  </section>`;
}

/** One incident, printable, with what may be done with it. @param {{id: string}} props */
export function IncidentView({ id }) {
  const heading = useFocusHeading();
  const flash = useFlash();
  const { state, data, retry } = useLoad(async () => {
    const [both, rules] = await Promise.all([incidentAndDirectory(id), api('get', '/v1/rules', { query: { include_inactive: true } })]);
    return { ...both, rules: rules.items };
  }, 'incident:' + id);
  const i = data?.incident;
  const canChange = i ? mayChange(i) : false;
  const open = i ? editOpen(i) : false;
  return html`<main id="main" class="safety incident-view printable">
    <h1 tabindex="-1" ref=${heading}>${i ? t('incident.viewTitle', { category: t('incident.category.' + i.category), day: day(i.occurred_at) }) : t('incident.viewTitleLoading')}</h1>
    <${OfflineNote} />
    ${flash && html`<p class="confirmation" role="status" data-testid="flash">${flash}</p>`}
    ${!data && html`<${LoadNotice} state=${state} retry=${retry} />`}
    ${i && data && html`
      <p class="print-only">${t('incident.printedAt', { when: when(new Date().toISOString()) })}</p>
      <${IncidentFacts} i=${i} dir=${data.dir} rules=${data.rules} />
      <section aria-labelledby="inc-responders-title">
        <h2 id="inc-responders-title">${t('incident.responders')}</h2>
        <${Responders} i=${i} dir=${data.dir} />
      </section>
      <${Amendments} i=${i} dir=${data.dir} />
      <section class="no-print window" aria-labelledby="inc-change-title">
        <h2 id="inc-change-title">${t('incident.changeTitle')}</h2>
        <p data-testid="edit-window">${!canChange ? t('incident.notYours') : open ? t('incident.openUntil', { when: when(i.editable_until) }) : t('incident.closedSince', { when: when(i.editable_until) })}</p>
        <div class="actions">
          ${canChange && open && html`<a class="button primary" href=${'#/incident/' + i.id + '/edit'}>${t('incident.edit')}</a>`}
          ${canChange && html`<a class=${'button ' + (open ? 'secondary' : 'primary')} href=${'#/incident/' + i.id + '/amend'}>${t('incident.amend')}</a>`}
        </div>
      </section>
      <div class="actions no-print">
        <button type="button" class="secondary" onClick=${() => window.print()}>${t('incident.print')}</button>
        <a class="button secondary" href=${'#/help-request/new/' + i.id}>${t('incident.askHelp')}</a>
        ${me().role === 'security' && html`<a class="button secondary" href=${'#/suspension/new/' + i.id}>${t('incident.suspend')}</a>`}
        <a class="button secondary" href="#/incidents">${t('incident.toList')}</a>
      </div>`}
  </main>`;
}

/** Add a later fact to a report: the original text stays. @param {{id: string}} props */
export function AmendIncident({ id }) {
  const heading = useFocusHeading();
  const { state, data, retry } = useLoad(() => incidentAndDirectory(id), 'amend:' + id);
  const [text, setText] = useState('');
  const [key] = useState(() => uuidv7());
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const online = useOnline();
  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const found = [];
    if (!text.trim()) found.push({ field: 'text', message: t('incident.err.amendment') });
    else if (lengthOf(text) > 10_000) found.push({ field: 'text', message: t('incident.err.amendmentLong') });
    else if (!online) found.push({ field: 'text', message: t('safety.err.offline') });
    setErrors(found);
    if (found.length) return;
    setBusy(true);
    try {
      await api('post', '/v1/incidents/{id}/amendments', { params: { id }, headers: { 'Idempotency-Key': key }, body: { id: key, text: text.trim() } });
      setFlash(t('incident.amended'));
      go('incident/' + id);
    } catch (e) {
      setErrors(refusal(e, 'text'));
    } finally {
      setBusy(false);
    }
  }
  const i = data?.incident;
  return html`<main id="main" class="form-screen safety">
    <h1 tabindex="-1" ref=${heading}>${t('incident.amendTitle')}</h1>
    <${OfflineNote} />
    ${!data && html`<${LoadNotice} state=${state} retry=${retry} />`}
    ${i && data && (!mayChange(i)
      ? html`<p class="notice">${t('incident.notYours')}</p>`
      : html`<p class="lead">${t('incident.amendLead')}</p>
        <p><a href=${'#/incident/' + i.id}>${t('incident.label', { when: when(i.occurred_at), category: t('incident.category.' + i.category), branch: branchName(data.dir, i.branch_id) })}</a></p>
        <blockquote class="prewrap original">${i.description}</blockquote>
        <${ErrorSummary} errors=${errors} prefix="amend" labels=${{ text: t('incident.amendText') }} />
        <form onSubmit=${submit} novalidate>
          <${Text} id="amend-text" field="text" label=${t('incident.amendText')} hint=${t('incident.amendHint')} value=${text} set=${setText} errors=${errors} multi=${true} rows=${5} />
          <div class="actions">
            <button class="primary" type="submit" disabled=${busy}>${busy ? t('safety.sending') : t('incident.amendSubmit')}</button>
            <a class="button secondary" href=${'#/incident/' + i.id}>${t('safety.cancel')}</a>
          </div>
        </form>`)}
  </main>`;
}

const NO_SEARCH = { q: '', branch: '', category: '', action: '', from: '', to: '' };
/** What the last search asked, to come back to: in memory only, and only for the account that asked. */
let lastSearch = { owner: '', search: NO_SEARCH };
const remember = (/** @type {typeof NO_SEARCH} */ search) => { lastSearch = { owner: me().id, search }; };

/**
 * Incidents: security searches all of them; staff read their branches'.
 * @param {any} _props
 */
export function Incidents(_props) {
  const heading = useFocusHeading();
  const security = me().role === 'security';
  const [form, setForm] = useState(lastSearch.owner === me().id ? lastSearch.search : NO_SEARCH);
  const [asked, setAsked] = useState(form);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [more, setMore] = useState(/** @type {{items: Schemas['IncidentOut'][], cursor?: string}} */ ({ items: [] }));
  const [loadingMore, setLoadingMore] = useState(false);
  const dir = useLoad(directory, 'dir');
  const key = JSON.stringify(asked);
  const result = useLoad(() => api('get', '/v1/incidents', { query: queryOf(asked) }), 'search:' + key);
  const countRef = useFocusWhen(false);
  const set = (/** @type {string} */ k) => (/** @type {string} */ v) => setForm((f) => ({ ...f, [k]: v }));

  /** @param {typeof NO_SEARCH} s */
  function queryOf(s, cursor = '') {
    /** @type {Record<string, string | number>} */
    const q = { limit: 25 };
    if (s.q.trim()) q.q = s.q.trim();
    if (s.branch) q.branch_id = s.branch;
    if (s.category) q.category = s.category;
    if (s.action) q.action_taken = s.action;
    if (s.from) q.from = fromLocal(s.from);
    if (s.to) q.to = new Date(Date.parse(fromLocal(s.to)) + 86_400_000).toISOString();
    if (cursor) q.cursor = cursor;
    return /** @type {any} */ (q);
  }

  /** @param {Event} ev */
  function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const found = [];
    if (lengthOf(form.q) > 100) found.push({ field: 'q', message: t('incident.err.qLong') });
    if (form.from && form.to && form.from > form.to) found.push({ field: 'to', message: t('incident.err.range') });
    setErrors(found);
    if (found.length) return;
    remember(form);
    setMore({ items: [] });
    setAsked(form);
    countRef.current?.focus();
  }
  function clear() {
    remember(NO_SEARCH);
    setForm(NO_SEARCH);
    setMore({ items: [] });
    setAsked(NO_SEARCH);
  }
  async function loadMore() {
    const cursor = more.cursor ?? result.data?.next_cursor;
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await api('get', '/v1/incidents', { query: queryOf(asked, cursor) });
      setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.next_cursor ?? '' }));
    } catch (e) {
      setErrors(refusal(e, 'q'));
    } finally {
      setLoadingMore(false);
    }
  }

  const items = [...(result.data?.items ?? []), ...more.items];
  const hasMore = more.cursor === undefined ? !!result.data?.next_cursor : !!more.cursor;
  const branches = myBranches(dir.data);
  const filtered = Object.values(asked).some((v) => v);
  return html`<main id="main" class="safety incidents">
    <h1 tabindex="-1" ref=${heading}>${security ? t('incident.searchTitle') : t('incident.branchTitle')}</h1>
    <${OfflineNote} />
    <p class="lead">${security ? t('incident.searchLead') : t('incident.branchLead')}</p>
    <div class="actions top-actions"><a class="button primary" href="#/report-incident">${t('incident.newTitle')}</a></div>
    <${ErrorSummary} errors=${errors} prefix="search" labels=${{ q: t('incident.q'), to: t('incident.to') }} />
    <form class="safety-search" role="search" aria-label=${t('incident.searchLabel')} onSubmit=${submit} novalidate>
      <div class="safety-grid">
        <${Text} id="search-q" field="q" label=${t('incident.q')} hint=${t('incident.qHint')} type="search" value=${form.q} set=${set('q')} errors=${errors} />
        ${branches.length > 1 && html`<${Select} id="search-branch" field="branch" label=${t('incident.branch')} value=${form.branch} set=${set('branch')}
          errors=${errors} options=${branches.map((b) => [b.id, b.name])} empty=${t('incident.anyBranch')} />`}
        <${Select} id="search-category" field="category" label=${t('incident.category')} value=${form.category} set=${set('category')} errors=${errors}
          options=${CATEGORIES.map((c) => [c, t('incident.category.' + c)])} empty=${t('incident.anyCategory')} />
        <${Select} id="search-action" field="action" label=${t('incident.action')} value=${form.action} set=${set('action')} errors=${errors}
          options=${ACTIONS.map((c) => [c, t('incident.action.' + c)])} empty=${t('incident.anyAction')} />
        <${Text} id="search-from" field="from" label=${t('incident.from')} type="date" value=${form.from} set=${set('from')} errors=${errors} />
        <${Text} id="search-to" field="to" label=${t('incident.to')} type="date" value=${form.to} set=${set('to')} errors=${errors} />
      </div>
      <div class="actions">
        <button class="primary" type="submit">${t('incident.search')}</button>
        ${filtered && html`<button class="secondary" type="button" onClick=${clear}>${t('incident.clear')}</button>`}
      </div>
    </form>
    <h2 tabindex="-1" ref=${countRef} id="results-title">${filtered ? t('incident.results') : t('incident.recent')}</h2>
    ${!result.data && html`<${LoadNotice} state=${result.state} retry=${result.retry} />`}
    ${result.data && html`<p role="status" data-testid="result-count">${items.length === 0 ? t('incident.none') : hasMore ? t('incident.countMore', { n: items.length }) : items.length === 1 ? t('incident.countOne') : t('incident.count', { n: items.length })}</p>
      <ul class="list incident-list" aria-labelledby="results-title">
        ${items.map((i) => html`<li class="item" key=${i.id} data-testid="incident-item">
          <div class="item-head">
            <a class="item-title" href=${'#/incident/' + i.id}>${t('incident.label', { when: when(i.occurred_at), category: t('incident.category.' + i.category), branch: branchName(dir.data, i.branch_id) })}</a>
            <span class="badge badge-action">${t('incident.action.' + i.action_taken)}</span>
          </div>
          <p class="summary">${excerpt(i.description)}</p>
          ${i.police_called && html`<p class="muted">${i.minutes_before_police === undefined ? t('incident.policeYes') : t('incident.policeAfter', { n: i.minutes_before_police })}</p>`}
        </li>`)}
      </ul>
      ${hasMore && html`<button type="button" class="secondary" onClick=${loadMore} disabled=${loadingMore}>${loadingMore ? t('safety.loading') : t('incident.more')}</button>`}`}
  </main>`;
}
