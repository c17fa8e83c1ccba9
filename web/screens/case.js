// A case file: summary, team, notes (amendments under the note they amend,
// restricted ones marked), consents, follow-ups, referrals and mandated
// reports; close, reopen and reassign. Everything reads the copy and writes
// through the outbox, so it works offline; only the staff directory (names
// for the team and reassignment) needs the network.
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { dayOf, t, timeOf } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { changeRecord, queueWrite, recordConsent } from '../lib/actions.js';
import { status } from '../lib/sync.js';
import { uuidv7 } from '../lib/uuid.js';
import { loadStaff, staffList, staffLoaded, staffName } from '../lib/staff.js';
import { consentState } from './referral.js';
import { Badge, ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */

/** Today as the device's calendar date (YYYY-MM-DD). */
export function todayIso() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** @param {string} branchId */
export function branchName(branchId) {
  return copy.branches.find((b) => b.id === branchId)?.name ?? t('case.otherBranch');
}

/** A consent is valid now (the consent gate's own rule). @param {any} c */
export const consentValid = (c) => consentState(c, new Date()) === 'valid';

/** @param {{kind: any, id: string}} props */
export function Pending({ kind, id }) {
  const pending = copy.pendingFor(kind, id);
  if (!pending) return null;
  return html`<${Badge} state=${pending.state} />${pending.state === 'rejected' || pending.state === 'conflict' ? html` <a href="#/outbox">${t('case.seeOutbox')}</a>` : ''}`;
}

/**
 * One multi-line text input with its label, hint and error.
 * @param {{id: string, label: string, hint?: string, value: string, set: (v: string) => void, errors: FieldError[], field: string, rows?: number, multi?: boolean, type?: string}} p
 */
export function TextField({ id, label, hint, value, set, errors, field, rows = 4, multi = false, type = 'text' }) {
  const message = errorFor(errors, field);
  const described = [hint ? id + '-hint' : '', message ? id + '-error' : ''].filter(Boolean).join(' ') || undefined;
  return html`<div class=${'field' + (message ? ' has-error' : '')}>
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${id + '-hint'}>${hint}</p>`}
    <${FieldMessage} id=${id} message=${message} />
    ${multi
      ? html`<textarea id=${id} rows=${rows} value=${value} aria-describedby=${described} onInput=${(/** @type {any} */ e) => set(e.currentTarget.value)}></textarea>`
      : html`<input id=${id} type=${type} value=${value} aria-describedby=${described} onInput=${(/** @type {any} */ e) => set(e.currentTarget.value)} />`}
  </div>`;
}

/** @param {{caseRecord: any}} props */
function Summary({ caseRecord }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(caseRecord.summary ?? '');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const mayEdit = copy.account?.role !== 'peer';
  /** @param {Event} ev */
  async function save(ev) {
    ev.preventDefault();
    if (!text.trim()) return setErrors([{ field: 'summary', message: t('case.err.summary') }]);
    setErrors([]);
    await changeRecord('case', caseRecord, { method: 'PATCH', path: `/v1/cases/${caseRecord.id}`, body: { summary: text }, label: t('op.caseSummary') }, { summary: text });
    setEditing(false);
  }
  return html`<section aria-labelledby="case-summary-title">
    <h2 id="case-summary-title">${t('case.summary')}</h2>
    ${!editing && html`<p class="prewrap" data-testid="case-summary">${caseRecord.summary || t('patrons.noSummary')}</p>`}
    ${!editing && mayEdit && html`<button type="button" class="secondary" onClick=${() => { setText(caseRecord.summary ?? ''); setEditing(true); }}>${t('case.editSummary')}</button>`}
    ${editing && html`<form onSubmit=${save} novalidate>
      <${ErrorSummary} errors=${errors} prefix="case" labels=${{ summary: t('case.summary') }} />
      <${TextField} id="case-summary" field="summary" label=${t('case.summary')} value=${text} set=${setText} errors=${errors} multi=${true} />
      <div class="actions">
        <button class="primary" type="submit">${t('case.saveSummary')}</button>
        <button class="secondary" type="button" onClick=${() => setEditing(false)}>${t('common.cancel')}</button>
      </div>
    </form>`}
  </section>`;
}

/** @param {{caseRecord: any}} props */
function Team({ caseRecord }) {
  const [adding, setAdding] = useState('');
  const role = copy.account?.role;
  const mayManage = role === 'social_worker' || role === 'supervisor';
  useEffect(() => { if (mayManage && status.online) loadStaff(); }, [status.online]);
  const team = /** @type {string[]} */ (caseRecord.team ?? []);
  const peers = staffList().filter((s) => s.role === 'peer' && s.branches.includes(caseRecord.branch_id) && !team.includes(s.id));
  async function add() {
    if (!adding) return;
    await changeRecord('case', caseRecord, { path: `/v1/cases/${caseRecord.id}/team`, body: { staff_id: adding }, label: t('op.teamAdd', { name: staffName(adding) }) }, { team: [...team, adding] });
    setAdding('');
  }
  /** @param {string} id */
  async function remove(id) {
    await changeRecord('case', caseRecord, { method: 'DELETE', path: `/v1/cases/${caseRecord.id}/team/${id}`, label: t('op.teamRemove', { name: staffName(id) }) }, { team: team.filter((x) => x !== id) });
  }
  return html`<section aria-labelledby="case-team-title">
    <h2 id="case-team-title">${t('case.team')}</h2>
    <p>${t('case.owner', { name: staffName(caseRecord.owner_id) })}</p>
    ${team.length ? html`<ul class="list" data-testid="case-team">${team.map((id) => html`<li class="item item-row" key=${id}>
        <span>${staffName(id)}</span>
        ${mayManage && html`<button type="button" class="secondary small" onClick=${() => remove(id)}>${t('case.removeMember')}<span class="visually-hidden"> ${staffName(id)}</span></button>`}
      </li>`)}</ul>` : html`<p class="muted">${t('case.noTeam')}</p>`}
    ${mayManage && (staffLoaded()
      ? html`<div class="field inline-form">
          <label for="case-add-peer">${t('case.addPeer')}</label>
          <select id="case-add-peer" value=${adding} onChange=${(/** @type {any} */ e) => setAdding(e.currentTarget.value)}>
            <option value="">${t('case.choosePeer')}</option>
            ${peers.map((s) => html`<option value=${s.id}>${s.display_name}</option>`)}
          </select>
          <button type="button" class="secondary" onClick=${add} disabled=${!adding}>${t('case.add')}</button>
        </div>`
      : html`<p class="muted">${t('case.teamNeedsNetwork')}</p>`)}
  </section>`;
}

/** @param {{note: any, amendments: any[], onAmend: (note: any) => void, mayWrite: boolean}} props */
function Note({ note, amendments, onAmend, mayWrite }) {
  const restricted = note.sensitivity === 'restricted';
  return html`<li class=${'item note' + (restricted ? ' restricted' : '')} data-testid="note">
    <div class="item-head">
      <strong>${dayOf(note.occurred_at)} ${timeOf(note.occurred_at)} · ${staffName(note.author_id)}</strong>
      <span>${restricted && html`<span class="badge badge-restricted">${t('note.restricted')}</span>`} <${Pending} kind="case_note" id=${note.id} /></span>
    </div>
    <p class="prewrap">${note.body}</p>
    ${amendments.map((a) => html`<div class="amendment" data-testid="amendment">
      <strong>${t('note.correction', { when: `${dayOf(a.occurred_at)} ${timeOf(a.occurred_at)}`, who: staffName(a.author_id) })}</strong>
      ${a.sensitivity === 'restricted' && html` <span class="badge badge-restricted">${t('note.restricted')}</span>`}
      <p class="prewrap">${a.body}</p>
    </div>`)}
    ${mayWrite && html`<button type="button" class="secondary small" onClick=${() => onAmend(note)}>${t('note.amend')}</button>`}
  </li>`;
}

/** @param {{caseRecord: any}} props */
function Notes({ caseRecord }) {
  const [body, setBody] = useState('');
  const [restricted, setRestricted] = useState(false);
  const [amending, setAmending] = useState(/** @type {any} */ (null));
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [saved, setSaved] = useState('');
  const me = copy.account?.staff_id;
  const role = copy.account?.role;
  const mayWrite = role === 'peer' || role === 'social_worker';
  // Restricted notes: the case owner writes them (and reads them, with the branch supervisors).
  const mayRestrict = role === 'social_worker' && caseRecord.owner_id === me;
  const notes = copy.all('case_note').filter((n) => n.case_id === caseRecord.id).sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
  const originals = notes.filter((n) => !n.amends_note_id || !notes.some((o) => o.id === n.amends_note_id));
  const amendmentsOf = (/** @type {any} */ n) => notes.filter((a) => a.amends_note_id === n.id);

  /** @param {Event} ev */
  async function save(ev) {
    ev.preventDefault();
    if (!body.trim()) return setErrors([{ field: 'body', message: t('note.err.body') }]);
    setErrors([]);
    const id = uuidv7();
    const now = new Date().toISOString();
    /** @type {Schemas['NewNoteIn']} */
    const fields = { id, body, sensitivity: restricted ? 'restricted' : 'standard', occurred_at: now };
    if (amending) fields.amends_note_id = amending.id;
    await queueWrite(
      { method: 'POST', path: `/v1/cases/${caseRecord.id}/notes`, body: fields, kind: 'case_note', id, label: amending ? t('op.noteAmend') : t('op.note') },
      { ...fields, case_id: caseRecord.id, author_id: me, recorded_at: now },
    );
    setBody('');
    setRestricted(false);
    setAmending(null);
    setSaved(t('note.saved'));
  }

  return html`<section aria-labelledby="case-notes-title">
    <h2 id="case-notes-title">${t('case.notes')}</h2>
    ${originals.length ? html`<ol class="list notes">${originals.map((n) => html`<${Note} key=${n.id} note=${n} amendments=${amendmentsOf(n)} onAmend=${(/** @type {any} */ x) => { setAmending(x); setSaved(''); document.getElementById('note-body')?.focus(); }} mayWrite=${mayWrite} />`)}</ol>` : html`<p class="muted">${t('case.noNotes')}</p>`}
    ${mayWrite && html`<form onSubmit=${save} novalidate class="note-form">
      <h3>${amending ? t('note.amendTitle') : t('note.addTitle')}</h3>
      ${amending && html`<p class="hint">${t('note.amendHint')}</p>`}
      ${saved && html`<p class="confirmation" role="status">${saved}</p>`}
      <${ErrorSummary} errors=${errors} prefix="note" labels=${{ body: t('note.body') }} />
      <${TextField} id="note-body" field="body" label=${t('note.body')} hint=${t('note.bodyHint')} value=${body} set=${setBody} errors=${errors} multi=${true} rows=${5} />
      ${mayRestrict && html`<div class="field"><label class="check"><input id="note-restricted" type="checkbox" checked=${restricted} onChange=${(/** @type {any} */ e) => setRestricted(e.currentTarget.checked)} />
        <span>${t('note.makeRestricted')}</span></label><p class="hint">${t('note.restrictedHint')}</p></div>`}
      <div class="actions">
        <button class="primary" type="submit">${amending ? t('note.saveAmend') : t('note.save')}</button>
        ${amending && html`<button class="secondary" type="button" onClick=${() => setAmending(null)}>${t('common.cancel')}</button>`}
      </div>
    </form>`}
  </section>`;
}

/** @param {{patronId: string, mayWrite: boolean}} props */
export function Consents({ patronId, mayWrite }) {
  const [open, setOpen] = useState(false);
  const [recipient, setRecipient] = useState('');
  const [scope, setScope] = useState('');
  const [purpose, setPurpose] = useState('');
  const [method, setMethod] = useState('verbal');
  const [expires, setExpires] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const consents = copy.all('consent').filter((c) => c.patron_id === patronId).sort((a, b) => b.given_at.localeCompare(a.given_at));

  /** @param {Event} ev */
  async function save(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!recipient.trim()) errs.push({ field: 'recipient', message: t('consent.err.recipient') });
    if (!scope.trim()) errs.push({ field: 'scope', message: t('consent.err.scope') });
    if (!purpose.trim()) errs.push({ field: 'purpose', message: t('consent.err.purpose') });
    if (expires && expires <= todayIso()) errs.push({ field: 'expires_at', message: t('consent.err.expires') });
    setErrors(errs);
    if (errs.length) return;
    /** @type {Omit<Schemas['NewConsentIn'], 'id'>} */
    const fields = { recipient, scope, purpose, method: /** @type {Schemas['ConsentMethod']} */ (method) };
    if (expires) fields.expires_at = new Date(expires + 'T23:59:59').toISOString();
    await recordConsent(patronId, fields);
    setOpen(false);
    setRecipient(''); setScope(''); setPurpose(''); setExpires('');
  }
  /** @param {any} c */
  const revoke = (c) => changeRecord('consent', c, { path: `/v1/consents/${c.id}/revoke`, label: t('op.consentRevoke', { recipient: c.recipient }) }, { revoked_at: new Date().toISOString(), valid: false });

  return html`<section aria-labelledby="consents-title">
    <h2 id="consents-title">${t('case.consents')}</h2>
    ${consents.length ? html`<ul class="list" data-testid="consents">${consents.map((c) => html`<li class="item" key=${c.id}>
        <div class="item-head"><strong>${c.recipient}</strong>
          <span>${consentValid(c) ? html`<span class="badge badge-applied">${t('consent.valid')}</span>` : html`<span class="badge badge-rejected">${c.revoked_at ? t('consent.revoked') : t('consent.notValid')}</span>`} <${Pending} kind="consent" id=${c.id} /></span></div>
        <dl class="facts">
          <dt>${t('consent.scope')}</dt><dd>${c.scope}</dd>
          <dt>${t('consent.purpose')}</dt><dd>${c.purpose}</dd>
          <dt>${t('consent.method')}</dt><dd>${t('consent.method.' + c.method)}, ${dayOf(c.given_at)}</dd>
          <dt>${t('consent.expires')}</dt><dd>${c.expires_at ? dayOf(c.expires_at) : t('consent.noExpiry')}</dd>
          ${c.revoked_at && html`<dt>${t('consent.revokedOn')}</dt><dd>${dayOf(c.revoked_at)}</dd>`}
        </dl>
        ${mayWrite && !c.revoked_at && html`<button type="button" class="secondary small" onClick=${() => revoke(c)}>${t('consent.revoke')}<span class="visually-hidden"> ${c.recipient}</span></button>`}
      </li>`)}</ul>` : html`<p class="muted">${t('case.noConsents')}</p>`}
    ${mayWrite && !open && html`<button type="button" class="secondary" onClick=${() => setOpen(true)}>${t('consent.add')}</button>`}
    ${mayWrite && open && html`<form onSubmit=${save} novalidate>
      <h3>${t('consent.addTitle')}</h3>
      <${ErrorSummary} errors=${errors} prefix="consent" labels=${{ recipient: t('consent.recipient'), scope: t('consent.scope'), purpose: t('consent.purpose'), expires_at: t('consent.expiresOn') }} />
      <${TextField} id="consent-recipient" field="recipient" label=${t('consent.recipient')} hint=${t('consent.recipientHint')} value=${recipient} set=${setRecipient} errors=${errors} />
      <${TextField} id="consent-scope" field="scope" label=${t('consent.scope')} hint=${t('consent.scopeHint')} value=${scope} set=${setScope} errors=${errors} />
      <${TextField} id="consent-purpose" field="purpose" label=${t('consent.purpose')} value=${purpose} set=${setPurpose} errors=${errors} />
      <fieldset class="field">
        <legend>${t('consent.method')}</legend>
        ${['verbal', 'signed'].map((m) => html`<label class="check"><input type="radio" name="consent-method" value=${m} checked=${method === m} onChange=${() => setMethod(m)} /><span>${t('consent.method.' + m)}</span></label>`)}
      </fieldset>
      <${TextField} id="consent-expires_at" field="expires_at" type="date" label=${t('consent.expiresOn')} hint=${t('consent.expiresHint')} value=${expires} set=${setExpires} errors=${errors} />
      <div class="actions">
        <button class="primary" type="submit">${t('consent.save')}</button>
        <button class="secondary" type="button" onClick=${() => setOpen(false)}>${t('common.cancel')}</button>
      </div>
    </form>`}
  </section>`;
}

/** @param {{caseRecord: any}} props */
function FollowUps({ caseRecord }) {
  const [due, setDue] = useState('');
  const [note, setNote] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const me = copy.account?.staff_id;
  const mayWrite = copy.account?.role === 'social_worker' || copy.account?.role === 'peer';
  const items = copy.all('follow_up').filter((f) => f.case_id === caseRecord.id).sort((a, b) => a.due_on.localeCompare(b.due_on));
  const today = todayIso();

  /** @param {Event} ev */
  async function save(ev) {
    ev.preventDefault();
    if (!due) return setErrors([{ field: 'due_on', message: t('followUp.err.due') }]);
    setErrors([]);
    const id = uuidv7();
    /** @type {Schemas['NewFollowUpIn']} */
    const body = { id, case_id: caseRecord.id, due_on: due };
    if (note.trim()) body.note = note;
    await queueWrite(
      { method: 'POST', path: '/v1/follow-ups', body, kind: 'follow_up', id, label: t('op.followUp', { date: dayOf(due) }) },
      { ...body, branch_id: caseRecord.branch_id, patron_id: caseRecord.patron_id, assigned_to: me, status: 'open', overdue: due < today, version: 1, created_at: new Date().toISOString() },
    );
    setDue(''); setNote('');
  }
  /** @param {any} f */
  const done = (f) => changeRecord('follow_up', f, { path: `/v1/follow-ups/${f.id}/done`, label: t('op.followUpDone', { date: dayOf(f.due_on) }) }, { status: 'done', done_at: new Date().toISOString(), done_by: me, overdue: false });

  return html`<section aria-labelledby="follow-ups-title">
    <h2 id="follow-ups-title">${t('case.followUps')}</h2>
    ${items.length ? html`<ul class="list" data-testid="follow-ups">${items.map((f) => html`<${FollowUpItem} key=${f.id} f=${f} onDone=${done} />`)}</ul>` : html`<p class="muted">${t('case.noFollowUps')}</p>`}
    ${mayWrite && caseRecord.status === 'open' && html`<form onSubmit=${save} novalidate class="inline-form-wrap">
      <h3>${t('followUp.addTitle')}</h3>
      <${ErrorSummary} errors=${errors} prefix="follow-up" labels=${{ due_on: t('followUp.due') }} />
      <${TextField} id="follow-up-due_on" field="due_on" type="date" label=${t('followUp.due')} value=${due} set=${setDue} errors=${errors} />
      <${TextField} id="follow-up-note" field="note" label=${t('followUp.note')} value=${note} set=${setNote} errors=${errors} />
      <button class="secondary" type="submit">${t('followUp.save')}</button>
    </form>`}
  </section>`;
}

/** @param {{f: any, onDone: (f: any) => void}} props */
export function FollowUpItem({ f, onDone }) {
  const overdue = f.status === 'open' && f.due_on < todayIso();
  return html`<li class="item item-row" data-testid="follow-up">
    <div>
      <strong class=${overdue ? 'overdue' : ''}>${f.status === 'done' ? t('followUp.doneOn', { date: dayOf(f.done_at ?? f.due_on) }) : overdue ? t('today.overdue', { date: dayOf(f.due_on) }) : t('today.due', { date: dayOf(f.due_on) })}</strong>
      ${f.note && html`<div>${f.note}</div>`}
      <${Pending} kind="follow_up" id=${f.id} />
    </div>
    ${f.status === 'open' && f.assigned_to === copy.account?.staff_id && html`<button type="button" class="secondary small" onClick=${() => onDone(f)}>${t('followUp.done')}<span class="visually-hidden"> ${t('today.due', { date: dayOf(f.due_on) })}</span></button>`}
  </li>`;
}

/** @param {{referral: any, withPatron?: boolean}} props */
export function ReferralItem({ referral, withPatron = false }) {
  const patron = withPatron ? copy.get('patron', referral.patron_id) : null;
  return html`<li class="item" data-testid="referral">
    <div class="item-head"><a href=${'#/referral/' + referral.id}><strong>${patron ? t('referralItem.forPatron', { recipient: referral.recipient_name, name: patron.preferred_name }) : referral.recipient_name}</strong></a>
      <span><span class=${'badge status-' + referral.status}>${t('referral.status.' + referral.status)}</span> <${Pending} kind="referral" id=${referral.id} /></span></div>
    <div class="muted">${(referral.needs ?? []).map((/** @type {string} */ n) => t('need.' + n)).join(', ')}${referral.follow_up_on ? ' · ' + (referral.follow_up_on < todayIso() ? t('referralItem.overdue', { date: dayOf(referral.follow_up_on) }) : t('referralItem.followUp', { date: dayOf(referral.follow_up_on) })) : ''}</div>
  </li>`;
}

/** @param {{caseRecord: any}} props */
function Lifecycle({ caseRecord }) {
  const role = copy.account?.role;
  const me = copy.account?.staff_id;
  const [doing, setDoing] = useState(/** @type {'' | 'close' | 'reopen' | 'reassign'} */ (''));
  const [reason, setReason] = useState('');
  const [owner, setOwner] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  useEffect(() => { if (role === 'supervisor' && status.online) loadStaff(); }, [status.online]);
  const mayClose = role === 'supervisor' || (role === 'social_worker' && caseRecord.owner_id === me);
  const mayReassign = role === 'supervisor';
  if (!mayClose && !mayReassign) return null;
  const workers = staffList().filter((s) => s.role === 'social_worker' && s.branches.includes(caseRecord.branch_id) && s.id !== caseRecord.owner_id);

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    if (doing === 'reassign') {
      if (!owner) return setErrors([{ field: 'owner_id', message: t('case.err.owner') }]);
      await changeRecord('case', caseRecord, { path: `/v1/cases/${caseRecord.id}/reassign`, body: { owner_id: owner }, label: t('op.caseReassign', { name: staffName(owner) }) }, { owner_id: owner });
    } else {
      if (!reason.trim()) return setErrors([{ field: 'reason', message: t('case.err.reason') }]);
      const closing = doing === 'close';
      await changeRecord('case', caseRecord, { path: `/v1/cases/${caseRecord.id}/${doing}`, body: { reason }, label: closing ? t('op.caseClose') : t('op.caseReopen') }, { status: closing ? 'closed' : 'open', status_reason: reason, closed_at: closing ? new Date().toISOString() : undefined });
    }
    setErrors([]); setReason(''); setOwner(''); setDoing('');
  }

  return html`<section aria-labelledby="case-lifecycle-title">
    <h2 id="case-lifecycle-title">${t('case.lifecycle')}</h2>
    ${caseRecord.status_reason && html`<p>${t('case.lastReason', { reason: caseRecord.status_reason })}</p>`}
    ${!doing && html`<div class="actions">
      ${mayClose && caseRecord.status === 'open' && html`<button type="button" class="secondary" onClick=${() => setDoing('close')}>${t('case.close')}</button>`}
      ${mayClose && caseRecord.status === 'closed' && html`<button type="button" class="secondary" onClick=${() => setDoing('reopen')}>${t('case.reopen')}</button>`}
      ${mayReassign && html`<button type="button" class="secondary" onClick=${() => { loadStaff(); setDoing('reassign'); }}>${t('case.reassign')}</button>`}
    </div>`}
    ${doing && html`<form onSubmit=${submit} novalidate>
      <${ErrorSummary} errors=${errors} prefix="case-move" labels=${{ reason: t('case.reason'), owner_id: t('case.newOwner') }} />
      ${doing === 'reassign'
        ? staffLoaded()
          ? html`<div class=${'field' + (errorFor(errors, 'owner_id') ? ' has-error' : '')}>
              <label for="case-move-owner_id">${t('case.newOwner')}</label>
              <${FieldMessage} id="case-move-owner_id" message=${errorFor(errors, 'owner_id')} />
              <select id="case-move-owner_id" value=${owner} onChange=${(/** @type {any} */ e) => setOwner(e.currentTarget.value)}>
                <option value="">${t('case.chooseWorker')}</option>
                ${workers.map((s) => html`<option value=${s.id}>${s.display_name}</option>`)}
              </select></div>`
          : html`<p>${t('case.teamNeedsNetwork')}</p>`
        : html`<${TextField} id="case-move-reason" field="reason" label=${t('case.reason')} value=${reason} set=${setReason} errors=${errors} multi=${true} rows=${3} />`}
      <div class="actions">
        <button class="primary" type="submit">${doing === 'close' ? t('case.close') : doing === 'reopen' ? t('case.reopen') : t('case.reassign')}</button>
        <button class="secondary" type="button" onClick=${() => { setDoing(''); setErrors([]); }}>${t('common.cancel')}</button>
      </div>
    </form>`}
  </section>`;
}

/** @param {{id: string}} props */
export function CaseFile({ id }) {
  const heading = useFocusHeading();
  const c = copy.get('case', id);
  useEffect(() => { if (status.online) loadStaff(); }, []);
  if (!c) {
    return html`<main id="main"><h1 tabindex="-1" ref=${heading}>${t('case.title')}</h1><p>${t('case.missing')}</p><p><a href="#/patrons">${t('patron.back')}</a></p></main>`;
  }
  const role = copy.account?.role;
  const patron = copy.get('patron', c.patron_id);
  const referrals = copy.all('referral').filter((r) => r.case_id === id).sort((a, b) => b.created_at.localeCompare(a.created_at));
  const reports = copy.all('mandated_report').filter((r) => r.case_id === id || (r.patron_id === c.patron_id && !r.case_id));
  return html`<main id="main" class="case-file">
    <p class="breadcrumb"><a href=${'#/patron/' + c.patron_id}>${patron?.preferred_name ?? t('case.patron')}</a></p>
    <h1 tabindex="-1" ref=${heading}>${t('case.titleOf', { name: patron?.preferred_name ?? t('case.patron') })}</h1>
    <p class="case-meta"><span class=${'badge status-' + c.status}>${t('caseStatus.' + c.status)}</span> ${branchName(c.branch_id)} · ${t('case.opened', { date: dayOf(c.opened_at) })} <${Pending} kind="case" id=${c.id} /></p>
    <div class="columns">
      <div>
        <${Summary} caseRecord=${c} />
        <${Notes} caseRecord=${c} />
      </div>
      <div>
        <${Team} caseRecord=${c} />
        <section aria-labelledby="case-referrals-title">
          <h2 id="case-referrals-title">${t('case.referrals')}</h2>
          ${referrals.length ? html`<ul class="list">${referrals.map((r) => html`<${ReferralItem} key=${r.id} referral=${r} />`)}</ul>` : html`<p class="muted">${t('case.noReferrals')}</p>`}
          ${role !== 'supervisor' && c.status === 'open' && html`<a class="button secondary" href=${'#/case/' + id + '/refer'}>${t('case.refer')}</a>`}
        </section>
        <${FollowUps} caseRecord=${c} />
        ${role !== 'peer' && html`<${Consents} patronId=${c.patron_id} mayWrite=${role === 'social_worker'} />`}
        ${role !== 'peer' && html`<section aria-labelledby="case-reports-title">
          <h2 id="case-reports-title">${t('case.reports')}</h2>
          <p class="hint">${t('case.reportsHint')}</p>
          ${reports.length ? html`<ul class="list">${reports.map((r) => html`<li class="item" key=${r.id}><a href=${'#/report/' + r.id}>${t('report.kind.' + r.kind)}</a> · ${t('report.status.' + r.status)}</li>`)}</ul>` : html`<p class="muted">${t('case.noReports')}</p>`}
          ${role === 'social_worker' && html`<a class="button secondary" href=${'#/case/' + id + '/report'}>${t('case.report')}</a>`}
        </section>`}
        <${Lifecycle} caseRecord=${c} />
      </div>
    </div>
  </main>`;
}

/** @param {{patronId: string}} props */
export function OpenCase({ patronId }) {
  const heading = useFocusHeading();
  const patron = copy.get('patron', patronId);
  const [summary, setSummary] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  if (!patron) return html`<main id="main"><h1 tabindex="-1" ref=${heading}>${t('case.openTitle')}</h1><p>${t('patron.missing')}</p></main>`;
  /** @param {Event} ev */
  async function save(ev) {
    ev.preventDefault();
    if (!summary.trim()) return setErrors([{ field: 'summary', message: t('case.err.summary') }]);
    setErrors([]);
    const id = uuidv7();
    const now = new Date().toISOString();
    /** @type {Schemas['NewCaseIn']} */
    const body = { id, patron_id: patronId, summary };
    await queueWrite(
      { method: 'POST', path: '/v1/cases', body, kind: 'case', id, label: t('op.caseOpen', { name: patron.preferred_name }) },
      { ...body, owner_id: copy.account?.staff_id, branch_id: patron.home_branch_id, status: 'open', opened_at: now, team: [], last_activity_at: now, version: 1, created_at: now, updated_at: now },
    );
    location.hash = '#/case/' + id;
  }
  return html`<main id="main" class="form-screen">
    <h1 tabindex="-1" ref=${heading}>${t('case.openTitleFor', { name: patron.preferred_name })}</h1>
    <form onSubmit=${save} novalidate>
      <${ErrorSummary} errors=${errors} prefix="open-case" labels=${{ summary: t('case.summary') }} />
      <${TextField} id="open-case-summary" field="summary" label=${t('case.summary')} hint=${t('case.summaryHint')} value=${summary} set=${setSummary} errors=${errors} multi=${true} />
      <div class="actions">
        <button class="primary" type="submit">${t('case.openSave')}</button>
        <a class="button secondary" href=${'#/patron/' + patronId}>${t('common.cancel')}</a>
      </div>
    </form>
  </main>`;
}
