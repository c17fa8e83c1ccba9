// Mandated reports: made from a case, moved with the facts each step needs; their author and the branch supervisors only.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { api, ApiError } from '../lib/api.js';
import { status as syncStatus, syncSoon } from '../lib/sync.js';
import { changeRecord, queueWrite } from '../lib/actions.js';
import { uuidv7 } from '../lib/uuid.js';
import { localInput, unsentFor, whenText, whoText } from './referral.js';
import { Badge, ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {import('../lib/copy.js').Entry} Entry */
/** @typedef {Schemas['MandatedReportStatus']} Status */

/** @type {Schemas['MandatedReportKind'][]} */
const KINDS = ['child_protective_services', 'adult_protective_services', 'other'];
/** @type {Schemas['ReportedHow'][]} */
const HOWS = ['phone', 'online', 'in_person'];

/**
 * The moves (src/casework/mandated_reports.rs `next`) and the facts each
 * needs, on the report already or given with the move.
 * @type {Record<Status, {to: Status, needs: ('reported_at' | 'reported_how' | 'intake_number')[]}[]>}
 */
const STEPS = {
  draft: [
    { to: 'submitted', needs: ['reported_at', 'reported_how'] },
    { to: 'acknowledged', needs: ['reported_at', 'reported_how', 'intake_number'] },
  ],
  submitted: [{ to: 'acknowledged', needs: ['reported_at', 'reported_how', 'intake_number'] }],
  acknowledged: [{ to: 'closed', needs: [] }],
  closed: [],
};

/** @param {any} e */
const value = (e) => e.currentTarget.value;

/** A datetime-local value of an ISO time ('' when none). @param {string | undefined} iso */
const inputOf = (iso) => (iso ? localInput(new Date(iso)) : '');

/**
 * A time typed into a datetime-local: ISO, or an error when empty, unreadable, before 2000 or in the future.
 * @param {string} v
 * @returns {string | null}
 */
function timeFrom(v) {
  const d = new Date(v);
  if (!v || isNaN(d.getTime()) || d.getTime() > Date.now() + 60_000 || d.getFullYear() < 2000) return null;
  return d.toISOString();
}

/**
 * One labelled field: its hint and error, and the control.
 * @param {{prefix: string, name: string, label: string, hint?: string, errors: FieldError[], kind?: 'text' | 'area' | 'time', value: string, set: (v: string) => void}} props
 */
function Field({ prefix, name, label, hint, errors, kind = 'text', value: v, set }) {
  const id = `${prefix}-${name}`;
  const error = errorFor(errors, name);
  const describedBy = hint ? id + '-hint' : undefined;
  const onInput = (/** @type {any} */ e) => set(value(e));
  return html`<div class=${'field' + (error ? ' has-error' : '')}>
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${id + '-hint'}>${hint}</p>`}
    <${FieldMessage} id=${id} message=${error} />
    ${kind === 'area'
      ? html`<textarea id=${id} rows="3" aria-describedby=${describedBy} value=${v} onInput=${onInput}></textarea>`
      : kind === 'time'
        ? html`<input id=${id} type="datetime-local" aria-describedby=${describedBy} max=${localInput(new Date())} value=${v} onInput=${onInput} />`
        : html`<input id=${id} aria-describedby=${describedBy} value=${v} onInput=${onInput} />`}
  </div>`;
}

/**
 * Radios for one of a few values.
 * @param {{prefix: string, name: string, legend: string, options: string[], labelOf: (o: string) => string, errors: FieldError[], value: string, set: (v: string) => void}} props
 */
function Choice({ prefix, name, legend, options, labelOf, errors, value: v, set }) {
  const error = errorFor(errors, name);
  return html`<fieldset class=${'field' + (error ? ' has-error' : '')} id=${`${prefix}-${name}`} tabindex="-1">
    <legend>${legend}</legend>
    <${FieldMessage} id=${`${prefix}-${name}`} message=${error} />
    <div class="toggles">
      ${options.map((o) => html`<label class="toggle"><input type="radio" name=${`${prefix}-${name}`} value=${o} checked=${v === o} onChange=${() => set(o)} /><span>${labelOf(o)}</span></label>`)}
    </div>
  </fieldset>`;
}

/** The words that say what a mandated report is (and is not). */
function NotAReferral() {
  return html`<div class="notice rf-report-notice">
    <p><strong>${t('report.notReferral')}</strong></p>
    <p>${t('report.noConsent')}</p>
    <p>${t('report.whoSees')}</p>
  </div>`;
}

const LONG = 10_000;

/**
 * Checks the report's content fields, as the server does.
 * @param {{agency: string, legal: string, learned: string, persons: string, what: string}} f
 * @returns {FieldError[]}
 */
function contentErrors({ agency, legal, learned, persons, what }) {
  /** @type {FieldError[]} */
  const errs = [];
  if (!agency.trim()) errs.push({ field: 'agency', message: t('report.err.agency') });
  else if ([...agency.trim()].length > 200) errs.push({ field: 'agency', message: t('report.err.tooLong', { n: 200 }) });
  if ([...legal].length > LONG) errs.push({ field: 'legal_basis', message: t('report.err.tooLong', { n: LONG }) });
  if (!timeFrom(learned)) errs.push({ field: 'learned_at', message: t('report.err.learned') });
  if (!persons.trim()) errs.push({ field: 'persons_concerned', message: t('report.err.persons') });
  else if ([...persons].length > LONG) errs.push({ field: 'persons_concerned', message: t('report.err.tooLong', { n: LONG }) });
  if (!what.trim()) errs.push({ field: 'what_was_reported', message: t('report.err.what') });
  else if ([...what].length > LONG) errs.push({ field: 'what_was_reported', message: t('report.err.tooLong', { n: LONG }) });
  return errs;
}

const contentLabels = () => ({
  kind: t('report.kind'), agency: t('report.agency'), legal_basis: t('report.legalBasis'), learned_at: t('report.learnedAt'),
  persons_concerned: t('report.persons'), what_was_reported: t('report.what'), reported_at: t('report.reportedAt'),
  reported_how: t('report.reportedHow'), intake_number: t('report.intake'), agency_worker: t('report.agencyWorker'),
  screening_outcome: t('report.screening'), to: t('report.step'),
});

/** @param {{caseId: string}} props */
export function NewReport({ caseId }) {
  const heading = useFocusHeading();
  const theCase = copy.get('case', caseId);
  const patron = theCase ? copy.get('patron', theCase.patron_id) : undefined;
  const [kind, setKind] = useState('');
  const [agency, setAgency] = useState('');
  const [legal, setLegal] = useState('');
  const [learned, setLearned] = useState('');
  const [persons, setPersons] = useState('');
  const [what, setWhat] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);

  if (copy.account?.role !== 'social_worker') {
    return html`<main id="main"><h1 tabindex="-1" ref=${heading}>${t('report.newTitle')}</h1><p>${t('report.workersOnly')}</p></main>`;
  }
  if (!theCase) return html`<main id="main"><h1 tabindex="-1" ref=${heading}>${t('report.newTitle')}</h1><p>${t('referral.noCase')}</p></main>`;

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    const errs = [
      ...(kind ? [] : [{ field: 'kind', message: t('report.err.kind') }]),
      ...contentErrors({ agency, legal, learned, persons, what }),
    ];
    setErrors(errs);
    if (errs.length || busy) return;
    setBusy(true);
    const id = uuidv7();
    const now = new Date().toISOString();
    /** @type {Schemas['NewMandatedReportIn']} */
    const body = {
      id, patron_id: theCase.patron_id, case_id: caseId, kind: /** @type {Schemas['MandatedReportKind']} */ (kind),
      agency: agency.trim(), learned_at: /** @type {string} */ (timeFrom(learned)), persons_concerned: persons, what_was_reported: what,
    };
    if (legal.trim()) body.legal_basis = legal;
    const local = { ...body, status: 'draft', version: 1, created_by: copy.account?.staff_id ?? '', created_at: now, updated_at: now };
    await queueWrite({ method: 'POST', path: '/v1/mandated-reports', body, kind: 'mandated_report', id, label: t('report.op.create', { kind: t('report.kind.' + kind) }) }, local);
    location.hash = '#/report/' + id;
  }

  const p = 'report';
  return html`<main id="main" class="form-screen rf-report-screen">
    <h1 tabindex="-1" ref=${heading}>${t('report.newTitleFor', { name: patron?.preferred_name ?? t('referral.thePatron') })}</h1>
    <p class="muted"><a href=${'#/case/' + caseId}>${t('referral.backToCase')}</a></p>
    <${NotAReferral} />
    <${ErrorSummary} errors=${errors} prefix=${p} labels=${contentLabels()} />
    <form onSubmit=${submit} novalidate>
      <${Choice} prefix=${p} name="kind" legend=${t('report.kind')} options=${KINDS} labelOf=${(/** @type {string} */ k) => t('report.kind.' + k)} errors=${errors} value=${kind} set=${setKind} />
      <${Field} prefix=${p} name="agency" label=${t('report.agency')} hint=${t('report.agencyHint')} errors=${errors} value=${agency} set=${setAgency} />
      <${Field} prefix=${p} name="legal_basis" label=${t('report.legalBasisOptional')} hint=${t('report.legalBasisHint')} kind="area" errors=${errors} value=${legal} set=${setLegal} />
      <${Field} prefix=${p} name="learned_at" label=${t('report.learnedAt')} hint=${t('report.learnedHint')} kind="time" errors=${errors} value=${learned} set=${setLearned} />
      <${Field} prefix=${p} name="persons_concerned" label=${t('report.persons')} hint=${t('report.personsHint')} kind="area" errors=${errors} value=${persons} set=${setPersons} />
      <${Field} prefix=${p} name="what_was_reported" label=${t('report.what')} hint=${t('report.whatHint')} kind="area" errors=${errors} value=${what} set=${setWhat} />
      <p class="hint">${t('report.laterHint')}</p>
      <button type="submit" class="primary" disabled=${busy}>${t('report.save')}</button>
    </form>
  </main>`;
}

/** @param {{entries: Entry[], report: any}} props */
function Unsent({ entries, report }) {
  const [message, setMessage] = useState('');
  const waiting = entries.filter((e) => e.state === 'waiting');
  const stuck = entries.filter((e) => e.state === 'rejected' || e.state === 'conflict');
  async function again() {
    for (const e of stuck.filter((x) => x.state === 'rejected')) await copy.updateEntry(e.op_id, 'waiting', { ...e.op, problem: undefined });
    syncSoon();
  }
  async function undo() {
    const created = entries.some((e) => e.op.method === 'POST' && e.op.path === '/v1/mandated-reports');
    try {
      if (created) {
        for (const e of entries) await copy.dropEntry(e.op_id);
        await copy.removeRecord('mandated_report', report.id);
        location.hash = report.case_id ? '#/case/' + report.case_id : '#/';
        return;
      }
      if (!syncStatus.online) return setMessage(t('referral.undoOffline'));
      const server = await api('get', '/v1/mandated-reports/{id}', { params: { id: report.id } });
      for (const e of entries) await copy.dropEntry(e.op_id);
      await copy.putRecord('mandated_report', report.id, server);
      setMessage(t('referral.undone'));
    } catch (e) {
      setMessage(e instanceof ApiError && e.offline ? t('referral.undoOffline') : t('errors.server'));
    }
  }
  const field = (/** @type {string} */ f) => /** @type {Record<string, string>} */ (contentLabels())[f] ?? f;
  return html`<div>
    ${message && html`<p class="notice" role="status">${message}</p>`}
    ${waiting.length > 0 && html`<p class="notice rf-waiting-note" role="status" data-testid="report-waiting">
      <${Badge} state="waiting" /> ${waiting.length === 1 ? t('referral.waitingOne') : t('referral.waiting', { n: waiting.length })}</p>`}
    ${stuck.map((e) => html`<div class="rf-problem-box" role="alert">
      <h2>${e.state === 'conflict' ? t('report.conflictTitle') : t('report.rejectedTitle')}</h2>
      <p><strong>${e.op.label}</strong></p>
      ${e.state === 'conflict'
        ? html`<p>${t('referral.conflictLead')} <a href="#/outbox">${t('referral.toOutbox')}</a></p>`
        : html`<ul>${(e.op.problem?.errors?.length ? e.op.problem.errors : [{ field: '', message: e.op.problem?.detail ?? e.op.problem?.title ?? '' }]).map((x) => html`<li>${
            x.field ? t('referral.rejectedField', { field: field(x.field), message: x.message }) : t('referral.rejectedOther', { message: x.message })}</li>`)}</ul>`}
    </div>`)}
    ${stuck.some((e) => e.state === 'rejected') && html`<div class="actions">
      <button type="button" class="primary" onClick=${again}>${t('referral.sendAgain')}</button>
      <button type="button" class="secondary" onClick=${undo}>${t('referral.undo')}</button>
    </div>`}
  </div>`;
}

/** @param {{report: any, done: (message: string) => void}} props */
function StepForm({ report, done }) {
  const steps = STEPS[/** @type {Status} */ (report.status)] ?? [];
  const [to, setTo] = useState(steps.length === 1 ? steps[0].to : '');
  const [reportedAt, setReportedAt] = useState(inputOf(report.reported_at));
  const [how, setHow] = useState(report.reported_how ?? '');
  const [intake, setIntake] = useState(report.intake_number ?? '');
  const [worker, setWorker] = useState(report.agency_worker ?? '');
  const [screening, setScreening] = useState(report.screening_outcome ?? '');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const step = steps.find((s) => s.to === to);
  if (!steps.length) return html`<p class="notice">${t('report.noSteps')}</p>`;

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!step) errs.push({ field: 'to', message: t('report.err.step') });
    const needs = step?.needs ?? [];
    const at = reportedAt ? timeFrom(reportedAt) : null;
    if (needs.includes('reported_at') && !at) errs.push({ field: 'reported_at', message: t('report.err.reportedAt') });
    else if (reportedAt && !at) errs.push({ field: 'reported_at', message: t('report.err.reportedAt') });
    if (needs.includes('reported_how') && !how) errs.push({ field: 'reported_how', message: t('report.err.reportedHow') });
    if (needs.includes('intake_number') && !intake.trim()) errs.push({ field: 'intake_number', message: t('report.err.intake') });
    if ([...intake.trim()].length > 100) errs.push({ field: 'intake_number', message: t('report.err.tooLong', { n: 100 }) });
    if ([...worker.trim()].length > 200) errs.push({ field: 'agency_worker', message: t('report.err.tooLong', { n: 200 }) });
    if ([...screening].length > LONG) errs.push({ field: 'screening_outcome', message: t('report.err.tooLong', { n: LONG }) });
    setErrors(errs);
    if (errs.length || !step) return;
    /** @type {Schemas['MandatedReportMoveIn']} */
    const body = { to: step.to };
    /** @type {any} */
    const local = { status: step.to, updated_at: new Date().toISOString() };
    if (at && reportedAt !== inputOf(report.reported_at)) body.reported_at = local.reported_at = at;
    if (how && how !== (report.reported_how ?? '')) body.reported_how = local.reported_how = /** @type {Schemas['ReportedHow']} */ (how);
    if (intake.trim() !== (report.intake_number ?? '')) { body.intake_number = intake.trim(); local.intake_number = intake.trim() || undefined; }
    if (worker.trim() !== (report.agency_worker ?? '')) { body.agency_worker = worker.trim(); local.agency_worker = worker.trim() || undefined; }
    if (screening !== (report.screening_outcome ?? '')) { body.screening_outcome = screening; local.screening_outcome = screening.trim() ? screening : undefined; }
    await changeRecord('mandated_report', report, {
      path: `/v1/mandated-reports/${report.id}/transitions`, body,
      label: t('report.op.move', { status: t('report.status.' + step.to) }),
    }, local);
    done(syncStatus.online ? t('report.moved', { status: t('report.status.' + step.to) }) : t('report.movedOffline', { status: t('report.status.' + step.to) }));
  }

  const p = 'step';
  const shows = (/** @type {string} */ f) => step && (/** @type {string[]} */ (step.needs).includes(f));
  return html`<div>
    <${ErrorSummary} errors=${errors} prefix=${p} labels=${contentLabels()} />
    <form onSubmit=${submit} novalidate>
      <fieldset class=${'field' + (errorFor(errors, 'to') ? ' has-error' : '')} id="step-to" tabindex="-1">
        <legend>${t('report.step')}</legend>
        <${FieldMessage} id="step-to" message=${errorFor(errors, 'to')} />
        ${steps.map((s) => html`<div class="rf-move-choice">
          <label class="check"><input type="radio" name="step-to" checked=${to === s.to} onChange=${() => setTo(s.to)}
            aria-describedby=${'step-hint-' + s.to} /><span>${t('report.stepTo.' + s.to)}</span></label>
          <p class="hint rf-move-hint" id=${'step-hint-' + s.to}>${t('report.stepHint.' + s.to)}</p>
        </div>`)}
      </fieldset>
      ${step && step.needs.length > 0 && html`<p class="hint">${t('report.needsFacts')}</p>`}
      ${shows('reported_at') && html`<${Field} prefix=${p} name="reported_at" label=${t('report.reportedAt')} hint=${t('report.reportedAtHint')} kind="time" errors=${errors} value=${reportedAt} set=${setReportedAt} />`}
      ${shows('reported_how') && html`<${Choice} prefix=${p} name="reported_how" legend=${t('report.reportedHow')} options=${HOWS} labelOf=${(/** @type {string} */ h) => t('report.how.' + h)} errors=${errors} value=${how} set=${setHow} />`}
      ${shows('intake_number') && html`<${Field} prefix=${p} name="intake_number" label=${t('report.intake')} hint=${t('report.intakeHint')} errors=${errors} value=${intake} set=${setIntake} />`}
      ${step && step.to !== 'closed' && html`<${Field} prefix=${p} name="agency_worker" label=${t('report.agencyWorkerOptional')} errors=${errors} value=${worker} set=${setWorker} />`}
      ${step && step.to !== 'submitted' && html`<${Field} prefix=${p} name="screening_outcome" label=${t('report.screeningOptional')} hint=${t('report.screeningHint')} kind="area" errors=${errors} value=${screening} set=${setScreening} />`}
      <button type="submit" class="primary">${step ? t('report.record', { status: t('report.status.' + step.to) }) : t('report.recordStep')}</button>
    </form>
  </div>`;
}

/** @param {{report: any, done: (message?: string) => void}} props */
function EditForm({ report, done }) {
  const [kind, setKind] = useState(report.kind ?? '');
  const [agency, setAgency] = useState(report.agency ?? '');
  const [legal, setLegal] = useState(report.legal_basis ?? '');
  const [learned, setLearned] = useState(inputOf(report.learned_at));
  const [persons, setPersons] = useState(report.persons_concerned ?? '');
  const [what, setWhat] = useState(report.what_was_reported ?? '');
  const [worker, setWorker] = useState(report.agency_worker ?? '');
  const [intake, setIntake] = useState(report.intake_number ?? '');
  const [screening, setScreening] = useState(report.screening_outcome ?? '');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [saved, setSaved] = useState('');

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    const errs = contentErrors({ agency, legal, learned, persons, what });
    if ([...intake.trim()].length > 100) errs.push({ field: 'intake_number', message: t('report.err.tooLong', { n: 100 }) });
    if ([...worker.trim()].length > 200) errs.push({ field: 'agency_worker', message: t('report.err.tooLong', { n: 200 }) });
    if ([...screening].length > LONG) errs.push({ field: 'screening_outcome', message: t('report.err.tooLong', { n: LONG }) });
    if (report.intake_number && !intake.trim() && report.status !== 'draft' && report.status !== 'submitted') {
      errs.push({ field: 'intake_number', message: t('report.err.intake') });
    }
    setErrors(errs);
    if (errs.length) return;
    /** @type {Record<string, string>} */
    const changes = {};
    /** @type {any} */
    const local = {};
    /** @param {string} k @param {string} v @param {string} was @param {boolean} [optional] */
    const put = (k, v, was, optional = false) => {
      if (v === was) return;
      changes[k] = v;
      local[k] = optional && !v.trim() ? undefined : v;
    };
    put('kind', kind, report.kind ?? '');
    put('agency', agency.trim(), report.agency ?? '');
    put('legal_basis', legal, report.legal_basis ?? '', true);
    if (learned !== inputOf(report.learned_at)) { changes.learned_at = local.learned_at = /** @type {string} */ (timeFrom(learned)); }
    put('persons_concerned', persons, report.persons_concerned ?? '');
    put('what_was_reported', what, report.what_was_reported ?? '');
    put('agency_worker', worker.trim(), report.agency_worker ?? '', true);
    put('intake_number', intake.trim(), report.intake_number ?? '', true);
    put('screening_outcome', screening, report.screening_outcome ?? '', true);
    if (!Object.keys(changes).length) return setSaved(t('referral.nothingChanged'));
    await changeRecord('mandated_report', report, {
      method: 'PATCH', path: `/v1/mandated-reports/${report.id}`, body: /** @type {Schemas['MandatedReportPatchIn']} */ (changes),
      label: t('report.op.change', { kind: t('report.kind.' + report.kind) }),
    }, { ...local, updated_at: new Date().toISOString() });
    done(syncStatus.online ? t('report.changed') : t('report.changedOffline'));
  }

  const p = 'edit';
  return html`<div>
    ${saved && html`<p class="confirmation" role="status">${saved}</p>`}
    <${ErrorSummary} errors=${errors} prefix=${p} labels=${contentLabels()} />
    <form onSubmit=${submit} novalidate>
      <${Choice} prefix=${p} name="kind" legend=${t('report.kind')} options=${KINDS} labelOf=${(/** @type {string} */ k) => t('report.kind.' + k)} errors=${errors} value=${kind} set=${setKind} />
      <${Field} prefix=${p} name="agency" label=${t('report.agency')} errors=${errors} value=${agency} set=${setAgency} />
      <${Field} prefix=${p} name="legal_basis" label=${t('report.legalBasisOptional')} kind="area" errors=${errors} value=${legal} set=${setLegal} />
      <${Field} prefix=${p} name="learned_at" label=${t('report.learnedAt')} kind="time" errors=${errors} value=${learned} set=${setLearned} />
      <${Field} prefix=${p} name="persons_concerned" label=${t('report.persons')} kind="area" errors=${errors} value=${persons} set=${setPersons} />
      <${Field} prefix=${p} name="what_was_reported" label=${t('report.what')} kind="area" errors=${errors} value=${what} set=${setWhat} />
      <${Field} prefix=${p} name="agency_worker" label=${t('report.agencyWorkerOptional')} errors=${errors} value=${worker} set=${setWorker} />
      <${Field} prefix=${p} name="intake_number" label=${t('report.intakeOptional')} errors=${errors} value=${intake} set=${setIntake} />
      <${Field} prefix=${p} name="screening_outcome" label=${t('report.screeningOptional')} kind="area" errors=${errors} value=${screening} set=${setScreening} />
      <div class="actions">
        <button type="submit" class="primary">${t('referral.saveChanges')}</button>
        <button type="button" class="secondary" onClick=${() => done()}>${t('consentGate.cancel')}</button>
      </div>
    </form>
  </div>`;
}

/** @param {{id: string}} props */
export function Report({ id }) {
  const heading = useFocusHeading();
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState('');
  const r = copy.get('mandated_report', id);
  if (!r) {
    return html`<main id="main"><h1 tabindex="-1" ref=${heading}>${t('report.title')}</h1>
      <p data-testid="report-missing">${t('report.missing')}</p></main>`;
  }
  const patron = copy.get('patron', r.patron_id);
  const mine = r.created_by === copy.account?.staff_id && copy.account?.role === 'social_worker';
  const entries = unsentFor('mandated_report', id);
  /** @param {string} label @param {string | undefined} v @param {boolean} [pre] */
  const fact = (label, v, pre = false) => html`<dt>${label}</dt><dd class=${pre ? 'rf-prewrap' : ''}>${v ? v : html`<span class="muted">${t('report.notYet')}</span>`}</dd>`;
  return html`<main id="main" class="rf-report-screen">
    <h1 tabindex="-1" ref=${heading}>${t('report.titleFor', { kind: t('report.kind.' + r.kind) })}</h1>
    <p class="muted">${patron ? t('referral.for', { name: patron.preferred_name }) : ''}
      ${r.case_id && html` <a href=${'#/case/' + r.case_id}>${t('referral.backToCase')}</a>`}</p>
    <${NotAReferral} />
    <${Unsent} entries=${entries} report=${r} />
    ${saved && html`<p class="confirmation" role="status" id="report-saved" tabindex="-1">${saved}</p>`}
    <div class="rf-referral-layout">
      <section aria-labelledby="report-facts-title" class="rf-facts-panel">
        <h2 id="report-facts-title">${t('report.factsTitle')}</h2>
        <dl class="rf-facts">
          <dt>${t('referral.statusLabel')}</dt>
          <dd><span class=${'rf-status rf-status-' + r.status} data-testid="report-status">${t('report.status.' + r.status)}</span></dd>
          ${fact(t('report.agency'), r.agency)}
          ${fact(t('report.legalBasis'), r.legal_basis, true)}
          ${fact(t('report.learnedAt'), r.learned_at && whenText(r.learned_at))}
          ${fact(t('report.reportedAt'), r.reported_at && whenText(r.reported_at))}
          ${fact(t('report.reportedHow'), r.reported_how && t('report.how.' + r.reported_how))}
          ${fact(t('report.intake'), r.intake_number)}
          ${fact(t('report.agencyWorker'), r.agency_worker)}
          ${fact(t('report.persons'), r.persons_concerned, true)}
          ${fact(t('report.what'), r.what_was_reported, true)}
          ${fact(t('report.screening'), r.screening_outcome, true)}
          <dt>${t('referral.madeBy')}</dt>
          <dd>${t('referral.madeWhen', { when: whenText(r.created_at), who: whoText(r.created_by) })}</dd>
        </dl>
      </section>
      <section aria-labelledby="report-step-title" class="rf-move-panel">
        <h2 id="report-step-title">${t('report.stepsTitle')}</h2>
        ${mine ? html`<${StepForm} key=${r.status} report=${r} done=${(/** @type {string} */ m) => { setSaved(m); setTimeout(() => document.getElementById('report-saved')?.focus(), 0); }} />` : html`<p class="notice">${t('report.authorOnly')}</p>`}
      </section>
    </div>
    ${mine && r.status !== 'closed' && html`<section aria-labelledby="report-edit-title">
      <h2 id="report-edit-title">${t('report.editTitle')}</h2>
      ${editing
        ? html`<${EditForm} report=${r} done=${(/** @type {string | undefined} */ m) => { setEditing(false); setSaved(m ?? ''); }} />`
        : html`<button type="button" class="secondary" onClick=${() => { setEditing(true); setSaved(''); }}>${t('report.edit')}</button>`}
    </section>`}
  </main>`;
}
