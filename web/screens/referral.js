// A referral: made from a case (service, needs, what is shared, the consent gate), then followed through its lifecycle.
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { dayOf, t, timeOf } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { api, ApiError } from '../lib/api.js';
import { status as syncStatus, syncSoon } from '../lib/sync.js';
import { changeRecord, queueWrite, recordConsent } from '../lib/actions.js';
import { uuidv7 } from '../lib/uuid.js';
import { staffName } from '../lib/staff.js';
import { NEEDS } from './log.js';
import { Badge, ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {import('../lib/copy.js').Entry} Entry */
/** @typedef {Schemas['ReferralStatus']} Status */
/** @typedef {Schemas['ReferralOutcome']} Outcome */
/** @typedef {'plain' | 'reason' | 'outcome' | 'requester'} Needs */

// ---- the rules the server applies, mirrored so the screen says them first ----

/**
 * The allowed moves (src/casework/referral_flow.rs), in the order the lifecycle runs.
 * @type {[Status, Status, Needs][]}
 */
const MOVES = [
  ['draft', 'requested', 'plain'],
  ['requested', 'received', 'plain'],
  ['received', 'accepted', 'plain'],
  ['accepted', 'in_progress', 'plain'],
  ['in_progress', 'on_hold', 'plain'],
  ['on_hold', 'in_progress', 'plain'],
  ['in_progress', 'completed', 'outcome'],
  ['on_hold', 'completed', 'outcome'],
  ['in_progress', 'failed', 'outcome'],
  ['on_hold', 'failed', 'outcome'],
  ['requested', 'rejected', 'reason'],
  ['received', 'rejected', 'reason'],
  ['draft', 'cancelled', 'reason'],
  ['requested', 'cancelled', 'reason'],
  ['received', 'cancelled', 'reason'],
  ['accepted', 'cancelled', 'reason'],
  ['in_progress', 'cancelled', 'reason'],
  ['on_hold', 'cancelled', 'reason'],
  ...(/** @type {Status[]} */ (['draft', 'requested', 'received', 'accepted', 'in_progress', 'on_hold', 'completed', 'failed', 'rejected', 'cancelled'])
    .map((s) => /** @type {[Status, Status, Needs]} */ ([s, 'entered_in_error', 'requester']))),
];

/** @type {Status[]} */
const OPEN = ['draft', 'requested', 'received', 'accepted', 'in_progress', 'on_hold'];
/** @type {Outcome[]} */
const OUTCOMES = ['got_help', 'not_eligible', 'no_capacity', 'could_not_contact', 'no_longer_interested', 'referred_elsewhere'];
/** The moves the outside agency makes, which a worker may record on its behalf. */
const AGENCY_MOVES = new Set(['received', 'accepted', 'in_progress', 'on_hold', 'completed', 'failed', 'rejected']);

/**
 * The moves allowed from a status, with what each needs.
 * @param {Status} from
 * @returns {{to: Status, needs: Needs}[]}
 */
export function movesFrom(from) {
  return MOVES.filter((m) => m[0] === from).map((m) => ({ to: m[1], needs: m[2] }));
}

/** @param {string} status */
export const isOpen = (status) => OPEN.includes(/** @type {Status} */ (status));

/**
 * The follow-up date the server sets after a move: a week while the agency
 * has yet to act, two weeks once it has accepted, none once closed (a UTC date).
 * @param {string} to
 * @param {Date} at
 * @returns {string | undefined}
 */
export function followUpAfter(to, at) {
  const days = ['draft', 'requested', 'received'].includes(to) ? 7 : ['accepted', 'in_progress', 'on_hold'].includes(to) ? 14 : 0;
  if (!days) return undefined;
  return new Date(at.getTime() + days * 86_400_000).toISOString().slice(0, 10);
}

/** Unicode White_Space, as Rust's split_whitespace splits on it. */
const WHITE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/**
 * The server's matching form of a name (domain::name_key): compatibility
 * decomposition, marks removed, each character lowercased, whitespace folded.
 * @param {string} s
 */
export function nameKey(s) {
  return [...s.normalize('NFKD').replace(/\p{M}/gu, '')].map((c) => c.toLowerCase()).join('').split(WHITE).filter(Boolean).join(' ');
}

/**
 * Why a consent does or does not hold at a moment (consents::valid_consent):
 * never revoked, given at or before it, not expired by then.
 * @param {any} c
 * @param {Date} at
 * @returns {'valid' | 'revoked' | 'notYet' | 'expired'}
 */
export function consentState(c, at) {
  if (c.revoked_at) return 'revoked';
  if (new Date(c.given_at).getTime() > at.getTime()) return 'notYet';
  if (c.expires_at && new Date(c.expires_at).getTime() <= at.getTime()) return 'expired';
  return 'valid';
}

/**
 * The names a consent must carry to cover a referral's recipient: the
 * recipient as recorded, and the directory entry's organization and name.
 * @param {string} recipientName
 * @param {any} [service]
 */
export function coveredNames(recipientName, service) {
  const names = [recipientName];
  if (service) names.push(service.organization_name, service.name);
  /** @type {string[]} */
  const out = [];
  for (const n of names) if (n && !out.some((o) => nameKey(o) === nameKey(n))) out.push(n);
  return out;
}

/**
 * The patron's consent that covers one of the names at `at` (the newest), if any.
 * @param {string} patronId
 * @param {string[]} names
 * @param {Date} at
 */
export function coveringConsent(patronId, names, at) {
  const keys = new Set(names.map(nameKey));
  return copy.all('consent')
    .filter((c) => c.patron_id === patronId && keys.has(nameKey(c.recipient ?? '')) && consentState(c, at) === 'valid')
    .sort((a, b) => (a.given_at < b.given_at ? 1 : -1))[0];
}

// ---- small helpers shared with the reports screen ----

/** @param {Date} d a datetime-local value */
export function localInput(d) {
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** @param {Date} d a date input's value (the local day) */
export function localDay(d) {
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** @param {string} iso */
export const whenText = (iso) => t('referral.at', { day: dayOf(iso), time: timeOf(iso) });

/** @param {string} day YYYY-MM-DD */
export function dayText(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
}

/** @param {string} staffId */
export const whoText = (staffId) => (staffId === copy.account?.staff_id ? t('referral.byYou') : t('referral.byStaff', { name: staffName(staffId) }));

/** @param {any} e */
const value = (e) => e.currentTarget.value;

/**
 * The unsent outbox entries of one record, oldest first.
 * @param {import('../lib/copy.js').Kind} kind
 * @param {string} id
 */
export const unsentFor = (kind, id) => copy.outbox.filter((e) => e.state !== 'applied' && e.state !== 'duplicate' && e.op.kind === kind && e.op.id === id);

/**
 * A "when did it happen" choice: now, or an earlier moment (not in the future).
 * @param {{prefix: string, when: string, setWhen: (w: string) => void, earlier: string, setEarlier: (v: string) => void, error: string, legend: string}} props
 */
export function WhenField({ prefix, when, setWhen, earlier, setEarlier, error, legend }) {
  return html`<fieldset class=${'field' + (error ? ' has-error' : '')}>
    <legend>${legend}</legend>
    <div class="toggles">
      <label class="toggle"><input type="radio" name=${prefix + '-when'} checked=${when === 'now'} onChange=${() => setWhen('now')} /><span>${t('log.now')}</span></label>
      <label class="toggle"><input type="radio" name=${prefix + '-when'} checked=${when === 'earlier'}
        onChange=${() => { setWhen('earlier'); if (!earlier) setEarlier(localInput(new Date())); }} /><span>${t('log.earlier')}</span></label>
    </div>
    <${FieldMessage} id=${prefix + '-occurred_at'} message=${error} />
    ${when === 'earlier' && html`<div class="field">
      <label for=${prefix + '-occurred_at'}>${t('log.earlierAt')}</label>
      <input id=${prefix + '-occurred_at'} type="datetime-local" value=${earlier} max=${localInput(new Date())} onInput=${(/** @type {any} */ e) => setEarlier(value(e))} />
    </div>`}
  </fieldset>`;
}

/**
 * The moment a WhenField gives, or an error message.
 * @param {string} when
 * @param {string} earlier
 * @returns {Date | string}
 */
export function momentOf(when, earlier) {
  if (when !== 'earlier') return new Date();
  const d = new Date(earlier);
  if (!earlier || isNaN(d.getTime()) || d.getTime() > Date.now() + 60_000 || d.getFullYear() < 2000) return t('referral.err.when');
  return d;
}

// ---- the consent gate ----

/**
 * Before a referral that names the patron is sent: which consent covers the
 * recipient at that moment, or that none does, with a form to record the
 * verbal consent given now. The same rule as the server's (see above).
 * @param {{patron: any, names: string[], at: Date, atNow: boolean, prefix: string}} props
 */
export function ConsentGate({ patron, names, at, atNow, prefix }) {
  const [open, setOpen] = useState(false);
  const [recipient, setRecipient] = useState(names[names.length > 1 ? 1 : 0] ?? '');
  const [scope, setScope] = useState('');
  const [purpose, setPurpose] = useState(t('consentGate.purposeDefault', { recipient: names[0] ?? '' }));
  const [expires, setExpires] = useState('');
  const [agreed, setAgreed] = useState(false);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [saved, setSaved] = useState('');
  const id = prefix + '-consent';
  if (!patron) return html`<section class="rf-gate rf-gate-stop" id=${id} tabindex="-1"><p>${t('consentGate.noPatron')}</p></section>`;

  const covering = coveringConsent(patron.id, names, at);
  const quoted = names.map((n) => t('consentGate.quoted', { name: n })).join(t('consentGate.or'));
  const keys = new Set(names.map(nameKey));
  const others = copy.all('consent').filter((c) => c.patron_id === patron.id && c !== covering);

  /** @param {Event} ev */
  async function record(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    const r = recipient.trim();
    if (!r) errs.push({ field: 'recipient', message: t('consentGate.err.recipient') });
    else if (!keys.has(nameKey(r))) errs.push({ field: 'recipient', message: t('consentGate.err.recipientMatch', { names: quoted }) });
    if (!scope.trim()) errs.push({ field: 'scope', message: t('consentGate.err.scope') });
    if (!purpose.trim()) errs.push({ field: 'purpose', message: t('consentGate.err.purpose') });
    const given = new Date();
    let expiresAt;
    if (expires) {
      const [y, m, d] = expires.split('-').map(Number);
      expiresAt = new Date(y, m - 1, d, 23, 59, 59);
      if (isNaN(expiresAt.getTime()) || expiresAt <= given) errs.push({ field: 'expires_at', message: t('consentGate.err.expires') });
    }
    if (!agreed) errs.push({ field: 'agreed', message: t('consentGate.err.agreed', { name: patron.preferred_name }) });
    setErrors(errs);
    if (errs.length) return;
    /** @type {Omit<Schemas['NewConsentIn'], 'id'>} */
    const fields = { recipient: r, scope: scope.trim(), purpose: purpose.trim(), method: 'verbal', given_at: given.toISOString() };
    if (expiresAt) fields.expires_at = expiresAt.toISOString();
    await recordConsent(patron.id, fields);
    setOpen(false);
    setAgreed(false);
    setSaved(t('consentGate.recorded', { recipient: r }));
    setTimeout(() => document.getElementById(id)?.focus(), 0);
  }

  const labels = { recipient: t('consentGate.recipient'), scope: t('consentGate.scope'), purpose: t('consentGate.purpose'), expires_at: t('consentGate.expires'), agreed: t('consentGate.agreedLabel') };
  const err = (/** @type {string} */ f) => errorFor(errors, f);
  const cls = (/** @type {string} */ f) => 'field' + (err(f) ? ' has-error' : '');
  const f = (/** @type {string} */ n) => `${id}-${n}`;

  if (covering) {
    const pending = copy.pendingFor('consent', covering.id);
    return html`<section class="rf-gate rf-gate-ok" id=${id} tabindex="-1" aria-labelledby=${id + '-title'} data-testid="consent-gate">
      <h2 id=${id + '-title'}>${t('consentGate.coveredTitle')}</h2>
      ${saved && html`<p class="confirmation" role="status">${saved}</p>`}
      <p>${t('consentGate.covered', { name: patron.preferred_name, recipient: covering.recipient, method: t('consentGate.method.' + covering.method), day: dayOf(covering.given_at) })}</p>
      <dl class="rf-facts">
        <dt>${t('consentGate.scope')}</dt><dd>${covering.scope}</dd>
        <dt>${t('consentGate.purpose')}</dt><dd>${covering.purpose}</dd>
        <dt>${t('consentGate.expires')}</dt><dd>${covering.expires_at ? dayOf(covering.expires_at) : t('consentGate.noExpiry')}</dd>
      </dl>
      ${pending && html`<p><${Badge} state=${pending.state} /> ${pending.state === 'waiting' ? t('consentGate.pending') : t('consentGate.pendingProblem')}</p>`}
    </section>`;
  }

  return html`<section class="rf-gate rf-gate-stop" id=${id} tabindex="-1" aria-labelledby=${id + '-title'} data-testid="consent-gate">
    <h2 id=${id + '-title'}>${t('consentGate.noneTitle')}</h2>
    <p>${atNow ? t('consentGate.none', { name: patron.preferred_name, names: quoted }) : t('consentGate.noneAt', { name: patron.preferred_name, names: quoted, when: whenText(at.toISOString()) })}</p>
    <p>${t('consentGate.why')}</p>
    ${others.length > 0 && html`<h3>${t('consentGate.othersTitle')}</h3>
      <ul class="rf-consents">${others.map((c) => {
        const state = consentState(c, at);
        const why = !keys.has(nameKey(c.recipient ?? '')) ? t('consentGate.otherRecipient') : t('consentGate.state.' + state);
        return html`<li>${t('consentGate.other', { recipient: c.recipient, day: dayOf(c.given_at), why })}</li>`;
      })}</ul>`}
    ${!open && html`<button type="button" class="secondary" onClick=${() => { setOpen(true); setTimeout(() => document.getElementById(f('recipient'))?.focus(), 0); }}>${t('consentGate.recordVerbal')}</button>`}
    ${open && html`<form class="rf-consent-form" onSubmit=${record} novalidate aria-labelledby=${id + '-form-title'}>
      <h3 id=${id + '-form-title'}>${t('consentGate.formTitle')}</h3>
      <p class="hint">${t('consentGate.formLead', { name: patron.preferred_name })}</p>
      <${ErrorSummary} errors=${errors} prefix=${id} labels=${labels} />
      <div class=${cls('recipient')}>
        <label for=${f('recipient')}>${t('consentGate.recipient')}</label>
        <p class="hint" id=${f('recipient-hint')}>${t('consentGate.recipientHint', { names: quoted })}</p>
        <${FieldMessage} id=${f('recipient')} message=${err('recipient')} />
        <input id=${f('recipient')} aria-describedby=${f('recipient-hint')} value=${recipient} onInput=${(/** @type {any} */ e) => setRecipient(value(e))} />
      </div>
      <div class=${cls('scope')}>
        <label for=${f('scope')}>${t('consentGate.scope')}</label>
        <p class="hint" id=${f('scope-hint')}>${t('consentGate.scopeHint')}</p>
        <${FieldMessage} id=${f('scope')} message=${err('scope')} />
        <textarea id=${f('scope')} rows="2" aria-describedby=${f('scope-hint')} value=${scope} onInput=${(/** @type {any} */ e) => setScope(value(e))}></textarea>
      </div>
      <div class=${cls('purpose')}>
        <label for=${f('purpose')}>${t('consentGate.purpose')}</label>
        <${FieldMessage} id=${f('purpose')} message=${err('purpose')} />
        <textarea id=${f('purpose')} rows="2" value=${purpose} onInput=${(/** @type {any} */ e) => setPurpose(value(e))}></textarea>
      </div>
      <div class=${cls('expires_at')}>
        <label for=${f('expires_at')}>${t('consentGate.expiresOptional')}</label>
        <p class="hint" id=${f('expires-hint')}>${t('consentGate.expiresHint')}</p>
        <${FieldMessage} id=${f('expires_at')} message=${err('expires_at')} />
        <input id=${f('expires_at')} type="date" aria-describedby=${f('expires-hint')} min=${localDay(new Date())} value=${expires} onInput=${(/** @type {any} */ e) => setExpires(value(e))} />
      </div>
      <div class=${cls('agreed')}>
        <${FieldMessage} id=${f('agreed')} message=${err('agreed')} />
        <label class="check"><input id=${f('agreed')} type="checkbox" checked=${agreed} onChange=${(/** @type {any} */ e) => setAgreed(e.currentTarget.checked)} />
          <span>${t('consentGate.agreed', { name: patron.preferred_name })}</span></label>
      </div>
      <div class="actions">
        <button type="submit" class="primary">${t('consentGate.save')}</button>
        <button type="button" class="secondary" onClick=${() => { setOpen(false); setErrors([]); setTimeout(() => document.getElementById(id)?.focus(), 0); }}>${t('consentGate.cancel')}</button>
      </div>
    </form>`}
  </section>`;
}

// ---- making a referral ----

/**
 * A service in the directory matches when each word of the query starts a
 * word of its organization, name, description (eligibility), address or
 * categories, and it is in the category (when one is chosen).
 * @param {any} s
 * @param {string} query
 * @param {string} category
 */
export function serviceMatches(s, query, category) {
  if (category && !(s.categories ?? []).includes(category)) return false;
  const split = (/** @type {string} */ x) => nameKey(x).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const words = split(query);
  if (!words.length) return true;
  const hay = split([s.organization_name, s.name, s.eligibility, s.address, ...(s.categories ?? []).map((c) => t('need.' + c))].filter(Boolean).join(' '));
  return words.every((w) => hay.some((h) => h.startsWith(w)));
}

/** @param {{service: any}} props */
function ServiceFacts({ service }) {
  return html`<div class="rf-service-facts">
    <div>${service.organization_name}</div>
    ${(service.categories ?? []).length > 0 && html`<div class="muted">${service.categories.map((/** @type {string} */ c) => t('need.' + c)).join(', ')}</div>`}
    ${service.phone && html`<div>${t('referral.phone', { phone: service.phone })}</div>`}
    ${service.eligibility && html`<div class="muted">${service.eligibility}</div>`}
  </div>`;
}

const SHOWN = 12;

/** @param {{caseId: string}} props */
export function NewReferral({ caseId }) {
  const heading = useFocusHeading();
  const theCase = copy.get('case', caseId);
  const patron = theCase ? copy.get('patron', theCase.patron_id) : undefined;
  const [to, setTo] = useState('directory');
  const [query, setQuery] = useState('');
  const [category, setCategory] = useState('');
  const [serviceId, setServiceId] = useState('');
  const [freeText, setFreeText] = useState('');
  const [needs, setNeeds] = useState(/** @type {string[]} */ ([]));
  const [notes, setNotes] = useState('');
  const [shares, setShares] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const service = serviceId ? copy.get('service', serviceId) : undefined;
  const recipientName = to === 'directory' ? service?.name ?? '' : freeText.trim();
  const names = recipientName ? coveredNames(recipientName, to === 'directory' ? service : undefined) : [];
  const covered = Boolean(patron && names.length && coveringConsent(patron.id, names, new Date()));
  // A consent recorded in the flow answers the summary's only problem: it goes.
  useEffect(() => {
    if (covered && errors.length && errors.every((e) => e.field === 'consent')) setErrors([]);
  }, [covered]);

  if (!theCase) {
    return html`<main id="main"><h1 tabindex="-1" ref=${heading}>${t('referral.newTitle')}</h1><p>${t('referral.noCase')}</p></main>`;
  }
  const name = patron?.preferred_name ?? t('referral.thePatron');
  const active = copy.all('service').filter((s) => s.status === 'active');
  const searching = query.trim() !== '' || category !== '';
  const matches = searching ? active.filter((s) => serviceMatches(s, query, category)).sort((a, b) => a.name.localeCompare(b.name)) : [];

  /** @param {string} need */
  const toggleNeed = (need) => setNeeds(needs.includes(need) ? needs.filter((n) => n !== need) : [...needs, need]);
  /** @param {any} s */
  function choose(s) {
    setServiceId(s.id);
    if (!needs.length) setNeeds(NEEDS.filter((n) => (s.categories ?? []).includes(n)));
    setTimeout(() => document.getElementById('referral-chosen')?.focus(), 0);
  }

  /** @param {boolean} send */
  async function save(send) {
    /** @type {FieldError[]} */
    const errs = [];
    if (to === 'directory' && !service) errs.push({ field: 'service_id', message: t('referral.err.service') });
    if (to === 'other' && !freeText.trim()) errs.push({ field: 'recipient', message: t('referral.err.recipient') });
    if (to === 'other' && [...freeText.trim()].length > 200) errs.push({ field: 'recipient', message: t('referral.err.recipientLong') });
    if ([...notes].length > 2000) errs.push({ field: 'notes', message: t('referral.err.notes') });
    if (!shares) errs.push({ field: 'shares_identifying_data', message: t('referral.err.shares') });
    const at = new Date();
    if (send && !errs.length && shares === 'yes' && patron && !coveringConsent(patron.id, names, at)) {
      errs.push({ field: 'consent', message: t('referral.err.consent', { recipient: recipientName }) });
    }
    setErrors(errs);
    if (errs.length || busy) return;
    setBusy(true);
    const id = uuidv7();
    const me = copy.account?.staff_id ?? '';
    const now = at.toISOString();
    /** @type {Schemas['NewReferralIn']} */
    const body = {
      id, patron_id: theCase.patron_id, case_id: caseId,
      needs: /** @type {Schemas['Need'][]} */ (needs), shares_identifying_data: shares === 'yes',
    };
    if (to === 'directory') body.service_id = serviceId;
    else body.recipient = freeText.trim();
    if (notes.trim()) body.notes = notes;
    const local = {
      id, patron_id: body.patron_id, case_id: caseId, service_id: body.service_id,
      recipient_name: recipientName, recipient_phone: to === 'directory' ? service?.phone : undefined,
      needs: [...body.needs ?? []].sort(), notes: body.notes, shares_identifying_data: body.shares_identifying_data,
      status: 'draft', follow_up_on: followUpAfter('draft', at), created_by: me, created_at: now, updated_at: now, version: 1,
      history: [{ to: 'draft', actor_id: me, occurred_at: now, recorded_at: now, on_behalf_of_agency: false, pending: true }],
    };
    await queueWrite({ method: 'POST', path: '/v1/referrals', body, kind: 'referral', id, label: t('referral.op.create', { recipient: recipientName }) }, local);
    if (send) await queueMove(local, { to: 'requested', occurred_at: new Date().toISOString(), on_behalf_of_agency: false });
    location.hash = '#/referral/' + id;
  }

  const labels = {
    service_id: t('referral.service'), recipient: t('referral.recipient'), needs: t('referral.needs'), notes: t('referral.notes'),
    shares_identifying_data: t('referral.shares'), consent: t('consentGate.title'),
  };
  const err = (/** @type {string} */ f) => errorFor(errors, f);
  const cls = (/** @type {string} */ f) => 'field' + (err(f) ? ' has-error' : '');

  return html`<main id="main" class="form-screen rf-referral-screen">
    <h1 tabindex="-1" ref=${heading}>${t('referral.newTitleFor', { name })}</h1>
    <p class="muted">${theCase.summary ? t('referral.caseIs', { summary: theCase.summary }) : t('referral.caseNoSummary')}
      ${' '}<a href=${'#/case/' + caseId}>${t('referral.backToCase')}</a></p>
    <${ErrorSummary} errors=${errors} prefix="referral" labels=${labels} />
    <form id="referral-form" onSubmit=${(/** @type {Event} */ e) => { e.preventDefault(); save(false); }} novalidate>
      <fieldset class="field">
        <legend>${t('referral.to')}</legend>
        <div class="toggles">
          <label class="toggle"><input type="radio" name="referral-to" checked=${to === 'directory'} onChange=${() => setTo('directory')} /><span>${t('referral.toDirectory')}</span></label>
          <label class="toggle"><input type="radio" name="referral-to" checked=${to === 'other'} onChange=${() => setTo('other')} /><span>${t('referral.toOther')}</span></label>
        </div>
      </fieldset>
      ${to === 'directory' && (service
        ? html`<div class=${cls('service_id')}>
            <h2 id="referral-chosen" tabindex="-1">${t('referral.chosen', { name: service.name })}</h2>
            <${ServiceFacts} service=${service} />
            <p><button type="button" class="secondary" id="referral-service_id" onClick=${() => setServiceId('')}>${t('referral.chooseOther')}</button></p>
          </div>`
        : html`<fieldset class=${cls('service_id')}>
            <legend>${t('referral.service')}</legend>
            <p class="hint">${t('referral.serviceHint')}</p>
            <${FieldMessage} id="referral-service_id" message=${err('service_id')} />
            <div class="rf-search-row">
              <div class="field">
                <label for="referral-service_id">${t('referral.search')}</label>
                <input id="referral-service_id" type="search" autocomplete="off" value=${query} onInput=${(/** @type {any} */ e) => setQuery(value(e))} />
              </div>
              <div class="field">
                <label for="referral-category">${t('referral.category')}</label>
                <select id="referral-category" value=${category} onChange=${(/** @type {any} */ e) => setCategory(value(e))}>
                  <option value="">${t('referral.anyCategory')}</option>
                  ${NEEDS.map((n) => html`<option value=${n}>${t('need.' + n)}</option>`)}
                </select>
              </div>
            </div>
            ${searching && html`<p class="hint" role="status">${matches.length === 0 ? t('referral.noServices') : matches.length === 1 ? t('referral.oneService') : t('referral.services', { n: matches.length })}</p>`}
            ${!searching && html`<p class="hint">${t('referral.searchFirst', { n: active.length })}</p>`}
            ${matches.length > 0 && html`<ul class="list rf-services">
              ${matches.slice(0, SHOWN).map((s) => html`<li class="item" key=${s.id}>
                <div class="item-head"><strong>${s.name}</strong>
                  <button type="button" class="secondary small" onClick=${() => choose(s)}>${t('referral.choose')}<span class="visually-hidden"> ${s.name}</span></button></div>
                <${ServiceFacts} service=${s} />
              </li>`)}
            </ul>`}
            ${matches.length > SHOWN && html`<p class="hint">${t('referral.moreServices', { n: matches.length - SHOWN })}</p>`}
          </fieldset>`)}
      ${to === 'other' && html`<div class=${cls('recipient')}>
        <label for="referral-recipient">${t('referral.recipient')}</label>
        <p class="hint" id="referral-recipient-hint">${t('referral.recipientHint')}</p>
        <${FieldMessage} id="referral-recipient" message=${err('recipient')} />
        <input id="referral-recipient" aria-describedby="referral-recipient-hint" value=${freeText} onInput=${(/** @type {any} */ e) => setFreeText(value(e))} />
      </div>`}
      <fieldset class=${cls('needs')} id="referral-needs" tabindex="-1" aria-describedby="referral-needs-hint">
        <legend>${t('referral.needs')}</legend>
        <p class="hint" id="referral-needs-hint">${t('log.needsHint')}</p>
        <div class="toggles">
          ${NEEDS.map((n) => html`<label class="toggle"><input type="checkbox" name="needs" value=${n} checked=${needs.includes(n)}
            onChange=${() => toggleNeed(n)} /><span>${t('need.' + n)}</span></label>`)}
        </div>
      </fieldset>
      <div class=${cls('notes')}>
        <label for="referral-notes">${t('referral.notesOptional')}</label>
        <p class="hint" id="referral-notes-hint">${t('referral.notesHint', { n: [...notes].length })}</p>
        <${FieldMessage} id="referral-notes" message=${err('notes')} />
        <textarea id="referral-notes" rows="3" aria-describedby="referral-notes-hint" value=${notes} onInput=${(/** @type {any} */ e) => setNotes(value(e))}></textarea>
      </div>
      <fieldset class=${cls('shares_identifying_data')} id="referral-shares_identifying_data" tabindex="-1" aria-describedby="referral-shares-hint">
        <legend>${t('referral.shares')}</legend>
        <p class="hint" id="referral-shares-hint">${t('referral.sharesHint')}</p>
        <${FieldMessage} id="referral-shares_identifying_data" message=${err('shares_identifying_data')} />
        <label class="check"><input type="radio" name="referral-shares" checked=${shares === 'yes'} onChange=${() => setShares('yes')} />
          <span>${t('referral.sharesYes', { name })}</span></label>
        <label class="check"><input type="radio" name="referral-shares" checked=${shares === 'no'} onChange=${() => setShares('no')} />
          <span>${t('referral.sharesNo')}</span></label>
      </fieldset>
    </form>
    ${shares === 'yes' && names.length > 0 && html`<${ConsentGate} key=${names.join('|')} patron=${patron} names=${names} at=${new Date()} atNow=${true} prefix="referral" />`}
    ${shares === 'no' && html`<p class="notice">${t('consentGate.notNeeded')}</p>`}
    <div class="actions">
      <button type="button" class="primary" disabled=${busy} onClick=${() => save(true)}>${t('referral.saveSend')}</button>
      <button type="submit" form="referral-form" class="secondary" disabled=${busy}>${t('referral.saveDraft')}</button>
    </div>
    <p class="hint">${t('referral.followUpHint')}</p>
  </main>`;
}

// ---- following a referral ----

/**
 * Queues a move with the record as the device expects it after: the new
 * status, the follow-up the server will set, and a history row waiting to send.
 * @param {any} r the referral in the copy
 * @param {Schemas['ReferralMoveIn']} mv
 */
function queueMove(r, mv) {
  const now = new Date();
  const at = mv.occurred_at ? new Date(mv.occurred_at) : now;
  const row = {
    from: r.status, to: mv.to, actor_id: copy.account?.staff_id ?? '', occurred_at: at.toISOString(), recorded_at: now.toISOString(),
    on_behalf_of_agency: mv.on_behalf_of_agency ?? false, reason: mv.reason, outcome: mv.outcome, pending: true,
  };
  /** @type {any} */
  const changes = { status: mv.to, follow_up_on: followUpAfter(mv.to, at > now ? at : now), history: [...(r.history ?? []), row], updated_at: now.toISOString() };
  if (mv.outcome) changes.outcome = mv.outcome;
  const label = t('referral.op.move', { recipient: r.recipient_name, status: t('referral.status.' + mv.to) });
  return changeRecord('referral', r, { path: `/v1/referrals/${r.id}/transitions`, body: mv, label }, changes);
}

/** @param {{entries: Entry[], referral: any}} props */
function Unsent({ entries, referral }) {
  const [message, setMessage] = useState('');
  const waiting = entries.filter((e) => e.state === 'waiting');
  const stuck = entries.filter((e) => e.state === 'rejected' || e.state === 'conflict');

  async function again() {
    for (const e of stuck.filter((x) => x.state === 'rejected')) await copy.updateEntry(e.op_id, 'waiting', { ...e.op, problem: undefined });
    setMessage('');
    syncSoon();
  }
  async function undo() {
    const created = entries.some((e) => e.op.method === 'POST' && e.op.path === '/v1/referrals');
    if (!created && !syncStatus.online) return setMessage(t('referral.undoOffline'));
    try {
      if (created) {
        for (const e of entries) await copy.dropEntry(e.op_id);
        await copy.removeRecord('referral', referral.id);
        location.hash = referral.case_id ? '#/case/' + referral.case_id : '#/';
        return;
      }
      const server = await api('get', '/v1/referrals/{id}', { params: { id: referral.id } });
      for (const e of entries) await copy.dropEntry(e.op_id);
      await copy.putRecord('referral', referral.id, server);
      setMessage(t('referral.undone'));
    } catch (e) {
      setMessage(e instanceof ApiError && e.offline ? t('referral.undoOffline') : t('errors.server'));
    }
  }

  return html`<div>
    ${message && html`<p class="notice" role="status">${message}</p>`}
    ${waiting.length > 0 && html`<p class="notice rf-waiting-note" role="status" data-testid="referral-waiting">
      <${Badge} state="waiting" /> ${waiting.length === 1 ? t('referral.waitingOne') : t('referral.waiting', { n: waiting.length })}</p>`}
    ${stuck.map((e) => html`<div class="rf-problem-box" role="alert" data-testid="referral-problem">
      <h2>${e.state === 'conflict' ? t('referral.conflictTitle') : t('referral.rejectedTitle')}</h2>
      <p><strong>${e.op.label}</strong></p>
      ${e.state === 'conflict'
        ? html`<p>${t('referral.conflictLead')} <a href="#/outbox">${t('referral.toOutbox')}</a></p>`
        : html`<ul>${(e.op.problem?.errors?.length ? e.op.problem.errors : [{ field: '', message: e.op.problem?.detail ?? e.op.problem?.title ?? '' }]).map((x) => html`<li>${
            x.field === 'consent' ? t('referral.rejectedConsent', { recipient: referral.recipient_name })
              : x.field ? t('referral.rejectedField', { field: t('referral.fieldname.' + x.field) === 'referral.fieldname.' + x.field ? x.field : t('referral.fieldname.' + x.field), message: x.message })
                : t('referral.rejectedOther', { message: x.message })}</li>`)}</ul>`}
    </div>`)}
    ${stuck.some((e) => e.state === 'rejected') && html`<div class="actions">
      <button type="button" class="primary" onClick=${again}>${t('referral.sendAgain')}</button>
      <button type="button" class="secondary" onClick=${undo}>${t('referral.undo')}</button>
    </div>`}
  </div>`;
}

/** @param {{referral: any, patron: any, service: any}} props */
function MoveForm({ referral, patron, service }) {
  const me = copy.account?.staff_id;
  const moves = movesFrom(referral.status).filter((m) => m.needs !== 'requester' || referral.created_by === me);
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState('');
  const [behalf, setBehalf] = useState(false);
  const [when, setWhen] = useState('now');
  const [earlier, setEarlier] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [saved, setSaved] = useState('');
  const chosen = moves.find((m) => m.to === to);
  const moment = momentOf(when, earlier);
  const gateAt = moment instanceof Date ? moment : new Date();
  const needsGate = to === 'requested' && referral.shares_identifying_data;
  const names = coveredNames(referral.recipient_name, service);
  const covered = Boolean(needsGate && patron && coveringConsent(patron.id, names, gateAt));
  useEffect(() => {
    if (covered && errors.length && errors.every((e) => e.field === 'consent')) setErrors([]);
  }, [covered]);

  if (copy.account?.role === 'peer' && referral.created_by !== me) return html`<p class="notice">${t('referral.peerOwnOnly')}</p>`;
  if (!moves.length) return html`<p class="notice">${t('referral.noMoves')}</p>`;

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!chosen) errs.push({ field: 'to', message: t('referral.err.to') });
    if (chosen?.needs === 'reason' && !reason.trim()) errs.push({ field: 'reason', message: t('referral.err.reason') });
    if ([...reason.trim()].length > 500) errs.push({ field: 'reason', message: t('referral.err.reasonLong') });
    if (chosen?.needs === 'outcome' && !outcome) errs.push({ field: 'outcome', message: t('referral.err.outcome') });
    if (typeof moment === 'string') errs.push({ field: 'occurred_at', message: moment });
    if (chosen && needsGate && typeof moment !== 'string' && patron && !coveringConsent(patron.id, names, moment)) {
      errs.push({ field: 'consent', message: t('referral.err.consent', { recipient: referral.recipient_name }) });
    }
    setErrors(errs);
    if (errs.length || !chosen || typeof moment === 'string') return;
    /** @type {Schemas['ReferralMoveIn']} */
    const mv = { to: chosen.to, occurred_at: moment.toISOString(), on_behalf_of_agency: behalf && AGENCY_MOVES.has(chosen.to) };
    if (reason.trim() && (chosen.needs === 'reason' || chosen.needs === 'requester')) mv.reason = reason.trim();
    if (chosen.needs === 'outcome') mv.outcome = /** @type {Outcome} */ (outcome);
    await queueMove(referral, mv);
    setTo(''); setReason(''); setOutcome(''); setBehalf(false); setWhen('now'); setEarlier('');
    setSaved(syncStatus.online ? t('referral.moved', { status: t('referral.status.' + chosen.to) }) : t('referral.movedOffline', { status: t('referral.status.' + chosen.to) }));
    setTimeout(() => document.getElementById('move-saved')?.focus(), 0);
  }

  const labels = { to: t('referral.moveTo'), reason: t('referral.reason'), outcome: t('referral.outcome'), occurred_at: t('referral.when'), consent: t('consentGate.title') };
  const err = (/** @type {string} */ f) => errorFor(errors, f);
  const cls = (/** @type {string} */ f) => 'field' + (err(f) ? ' has-error' : '');
  return html`<div>
    ${saved && html`<p class="confirmation" role="status" id="move-saved" tabindex="-1">${saved}</p>`}
    <${ErrorSummary} errors=${errors} prefix="move" labels=${labels} />
    <form id="move-form" onSubmit=${submit} novalidate class="rf-move-form">
      <fieldset class=${cls('to')} id="move-to" tabindex="-1">
        <legend>${t('referral.moveTo')}</legend>
        <${FieldMessage} id="move-to" message=${err('to')} />
        ${moves.map((m) => html`<div class="rf-move-choice">
          <label class="check"><input type="radio" name="move-to" value=${m.to} checked=${to === m.to}
            onChange=${() => { setTo(m.to); setSaved(''); }} aria-describedby=${'move-hint-' + m.to} /><span>${t('referral.status.' + m.to)}</span></label>
          <p class="hint rf-move-hint" id=${'move-hint-' + m.to}>${t('referral.moveHint.' + m.to)}</p>
        </div>`)}
      </fieldset>
      ${chosen && (chosen.needs === 'reason' || chosen.needs === 'requester') && html`<div class=${cls('reason')}>
        <label for="move-reason">${chosen.needs === 'reason' ? t('referral.reason') : t('referral.reasonOptional')}</label>
        <p class="hint" id="move-reason-hint">${t('referral.reasonHint.' + chosen.to)}</p>
        <${FieldMessage} id="move-reason" message=${err('reason')} />
        <textarea id="move-reason" rows="2" aria-describedby="move-reason-hint" value=${reason} onInput=${(/** @type {any} */ e) => setReason(value(e))}></textarea>
      </div>`}
      ${chosen?.needs === 'outcome' && html`<fieldset class=${cls('outcome')} id="move-outcome" tabindex="-1">
        <legend>${t('referral.outcome')}</legend>
        <${FieldMessage} id="move-outcome" message=${err('outcome')} />
        <div class="toggles">
          ${OUTCOMES.map((o) => html`<label class="toggle"><input type="radio" name="move-outcome" value=${o} checked=${outcome === o}
            onChange=${() => setOutcome(o)} /><span>${t('referral.outcome.' + o)}</span></label>`)}
        </div>
      </fieldset>`}
      ${chosen && AGENCY_MOVES.has(chosen.to) && html`<div class="field">
        <label class="check"><input id="move-behalf" type="checkbox" checked=${behalf} aria-describedby="move-behalf-hint"
          onChange=${(/** @type {any} */ e) => setBehalf(e.currentTarget.checked)} /><span>${t('referral.behalf')}</span></label>
        <p class="hint" id="move-behalf-hint">${t('referral.behalfHint', { recipient: referral.recipient_name })}</p>
      </div>`}
      ${chosen && html`<${WhenField} prefix="move" when=${when} setWhen=${setWhen} earlier=${earlier} setEarlier=${setEarlier} error=${err('occurred_at')} legend=${t('referral.when')} />`}
    </form>
    ${chosen && needsGate && html`<${ConsentGate} key=${names.join('|')} patron=${patron} names=${names} at=${gateAt} atNow=${when === 'now'} prefix="move" />`}
    <div class="actions">
      <button type="submit" form="move-form" class="primary">${chosen ? t('referral.record', { status: t('referral.status.' + chosen.to) }) : t('referral.recordMove')}</button>
    </div>
  </div>`;
}

/** @param {{referral: any}} props */
function ChangeForm({ referral }) {
  const [day, setDay] = useState(referral.follow_up_on ?? '');
  const [notes, setNotes] = useState(referral.notes ?? '');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [saved, setSaved] = useState('');
  const today = localDay(new Date());
  const utcToday = new Date().toISOString().slice(0, 10);
  const min = today > utcToday ? today : utcToday;
  const max = new Date(Date.now() + 366 * 86_400_000).toISOString().slice(0, 10);

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!day || day < min || day > max) errs.push({ field: 'follow_up_on', message: t('referral.err.followUp') });
    if ([...notes].length > 2000) errs.push({ field: 'notes', message: t('referral.err.notes') });
    setErrors(errs);
    if (errs.length) return;
    /** @type {Schemas['ReferralPatchIn']} */
    const changes = {};
    if (day !== (referral.follow_up_on ?? '')) changes.follow_up_on = day;
    if (notes !== (referral.notes ?? '')) changes.notes = notes;
    if (!Object.keys(changes).length) return setSaved(t('referral.nothingChanged'));
    await changeRecord('referral', referral, {
      method: 'PATCH', path: `/v1/referrals/${referral.id}`, body: changes,
      label: t('referral.op.change', { recipient: referral.recipient_name }),
    }, { ...changes, notes: changes.notes === undefined ? referral.notes : changes.notes.trim() || undefined, updated_at: new Date().toISOString() });
    setSaved(syncStatus.online ? t('referral.changed') : t('referral.changedOffline'));
  }

  const labels = { follow_up_on: t('referral.followUpOn'), notes: t('referral.notes') };
  const err = (/** @type {string} */ f) => errorFor(errors, f);
  const cls = (/** @type {string} */ f) => 'field' + (err(f) ? ' has-error' : '');
  return html`<form onSubmit=${submit} novalidate>
    ${saved && html`<p class="confirmation" role="status">${saved}</p>`}
    <${ErrorSummary} errors=${errors} prefix="change" labels=${labels} />
    <div class=${cls('follow_up_on')}>
      <label for="change-follow_up_on">${t('referral.followUpOn')}</label>
      <p class="hint" id="change-follow-hint">${t('referral.followUpChangeHint')}</p>
      <${FieldMessage} id="change-follow_up_on" message=${err('follow_up_on')} />
      <input id="change-follow_up_on" type="date" min=${min} max=${max} aria-describedby="change-follow-hint" value=${day} onInput=${(/** @type {any} */ e) => setDay(value(e))} />
    </div>
    <div class=${cls('notes')}>
      <label for="change-notes">${t('referral.notesOptional')}</label>
      <p class="hint" id="change-notes-hint">${t('referral.notesHint', { n: [...notes].length })}</p>
      <${FieldMessage} id="change-notes" message=${err('notes')} />
      <textarea id="change-notes" rows="3" aria-describedby="change-notes-hint" value=${notes} onInput=${(/** @type {any} */ e) => setNotes(value(e))}></textarea>
    </div>
    <button type="submit" class="secondary">${t('referral.saveChanges')}</button>
  </form>`;
}

/** @param {{history: any[], stuck: boolean}} props */
function Timeline({ history, stuck }) {
  return html`<ol class="rf-timeline" data-testid="referral-history">
    ${[...history].reverse().map((h) => html`<li class=${'rf-moment' + (h.pending ? ' rf-pending' : '')}>
      <div class="rf-moment-head">
        <strong>${h.from ? t('referral.fromTo', { from: t('referral.status.' + h.from), to: t('referral.status.' + h.to) }) : t('referral.made')}</strong>
        ${h.pending && html`<${Badge} state=${stuck ? 'rejected' : 'waiting'} />`}
      </div>
      <div class="muted"><time datetime=${h.occurred_at}>${whenText(h.occurred_at)}</time>, ${whoText(h.actor_id)}</div>
      ${h.on_behalf_of_agency && html`<div class="rf-tag">${t('referral.onBehalf')}</div>`}
      ${h.outcome && html`<div>${t('referral.outcomeIs', { outcome: t('referral.outcome.' + h.outcome) })}</div>`}
      ${h.reason && html`<div>${t('referral.reasonIs', { reason: h.reason })}</div>`}
      ${!h.pending && Math.abs(new Date(h.recorded_at).getTime() - new Date(h.occurred_at).getTime()) > 5 * 60_000 && html`<div class="muted">${t('referral.recordedAt', { when: whenText(h.recorded_at) })}</div>`}
    </li>`)}
  </ol>`;
}

/** @param {{id: string}} props */
export function Referral({ id }) {
  const heading = useFocusHeading();
  const r = copy.get('referral', id);
  if (!r) return html`<main id="main"><h1 tabindex="-1" ref=${heading}>${t('referral.title')}</h1><p>${t('referral.missing')}</p></main>`;
  const patron = copy.get('patron', r.patron_id);
  const service = r.service_id ? copy.get('service', r.service_id) : undefined;
  const entries = unsentFor('referral', id);
  const stuck = entries.some((e) => e.state === 'rejected' || e.state === 'conflict');
  const overdue = r.follow_up_on && isOpen(r.status) && r.follow_up_on < localDay(new Date());
  return html`<main id="main" class="rf-referral-screen">
    <h1 tabindex="-1" ref=${heading}>${t('referral.titleTo', { recipient: r.recipient_name })}</h1>
    <p class="muted">${patron ? t('referral.for', { name: patron.preferred_name }) : ''}
      ${r.case_id && html` <a href=${'#/case/' + r.case_id}>${t('referral.backToCase')}</a>`}</p>
    <${Unsent} entries=${entries} referral=${r} />
    <div class="rf-referral-layout">
      <section aria-labelledby="referral-facts-title" class="rf-facts-panel">
        <h2 id="referral-facts-title" class="visually-hidden">${t('referral.factsTitle')}</h2>
        <dl class="rf-facts">
          <dt>${t('referral.statusLabel')}</dt>
          <dd><span class=${'rf-status rf-status-' + r.status} data-testid="referral-status">${t('referral.status.' + r.status)}</span></dd>
          <dt>${t('referral.followUpOn')}</dt>
          <dd data-testid="referral-follow-up">${r.follow_up_on
            ? html`<span class=${overdue ? 'rf-overdue' : ''}>${overdue ? t('referral.overdue', { day: dayText(r.follow_up_on) }) : dayText(r.follow_up_on)}</span>`
            : t('referral.noFollowUp')}</dd>
          <dt>${t('referral.recipient')}</dt>
          <dd>${r.recipient_name}${r.recipient_phone && html`<br /><a href=${'tel:' + r.recipient_phone}>${t('referral.phone', { phone: r.recipient_phone })}</a>`}
            ${service && service.organization_name && html`<br /><span class="muted">${service.organization_name}</span>`}</dd>
          <dt>${t('referral.needs')}</dt>
          <dd>${r.needs?.length ? r.needs.map((/** @type {string} */ n) => t('need.' + n)).join(', ') : t('referral.noNeeds')}</dd>
          <dt>${t('referral.shares')}</dt>
          <dd>${r.shares_identifying_data ? t('referral.sharesYesShort') : t('referral.sharesNoShort')}</dd>
          ${r.outcome && html`<dt>${t('referral.outcome')}</dt><dd>${t('referral.outcome.' + r.outcome)}</dd>`}
          ${r.notes && html`<dt>${t('referral.notes')}</dt><dd class="rf-prewrap">${r.notes}</dd>`}
          <dt>${t('referral.madeBy')}</dt>
          <dd>${t('referral.madeWhen', { when: whenText(r.created_at), who: whoText(r.created_by) })}</dd>
        </dl>
      </section>
      <section aria-labelledby="referral-move-title" class="rf-move-panel">
        <h2 id="referral-move-title">${t('referral.moveTitle')}</h2>
        <${MoveForm} referral=${r} patron=${patron} service=${service} />
      </section>
    </div>
    <section aria-labelledby="referral-history-title">
      <h2 id="referral-history-title">${t('referral.historyTitle')}</h2>
      <${Timeline} history=${r.history ?? []} stuck=${stuck} />
    </section>
    ${isOpen(r.status) && html`<section aria-labelledby="referral-change-title">
      <h2 id="referral-change-title">${t('referral.changeTitle')}</h2>
      <${ChangeForm} key=${r.status} referral=${r} />
    </section>`}
  </main>`;
}
