// The training catalogue and the rules of behavior: lists with a form to add
// one, and changing one (If-Match; neither has a read of one record, so the
// list is read and the record found in it).
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api, ApiError } from '../lib/api.js';
import { ErrorSummary, useFocusHeading } from './ui.js';
import { Check, Choices, LoadNotice, OfflineNotice, Saved, StaleNotice, Text, allBranches, isStale, refusal, useLoad } from './admin-ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {Schemas['TrainingOut']} Training */
/** @typedef {Schemas['RuleOut']} Rule */
/** @typedef {Schemas['BranchOut']} Branch */

/** A message for the next screen (held in memory until it is shown). */
let flash = '';
function takeFlash() {
  const m = flash;
  flash = '';
  return m;
}

/** A record not in its list: answered as a 404. */
const notFound = () => new ApiError(404, { type: 'about:blank', title: t('admin.missing'), status: 404, errors: [] });

// ---- Trainings ----

const trainingLabels = () => ({
  name: t('admin.trainings.name'), provider: t('admin.trainings.provider'),
  recertify_months: t('admin.trainings.months'), de_escalation: t('admin.trainings.deEscalation'),
});

/**
 * @param {{name: string, provider: string, months: string}} f
 * @param {Training | null} before
 * @returns {FieldError[]}
 */
function checkTraining({ name, provider, months }, before) {
  /** @type {FieldError[]} */
  const errs = [];
  if (!name.trim()) errs.push({ field: 'name', message: t('admin.trainings.err.name') });
  if (!provider.trim()) errs.push({ field: 'provider', message: t('admin.trainings.err.provider') });
  const m = months.trim();
  if (m && !(/^\d+$/.test(m) && Number(m) >= 1 && Number(m) <= 120)) errs.push({ field: 'recertify_months', message: t('admin.trainings.err.months') });
  if (!m && before?.recertify_months) errs.push({ field: 'recertify_months', message: t('admin.trainings.err.keepMonths') });
  return errs;
}

/** @param {Training} tr */
const renewal = (tr) => (tr.recertify_months ? (tr.recertify_months === 1 ? t('admin.trainings.everyMonth') : t('admin.trainings.every', { n: tr.recertify_months })) : t('admin.trainings.never'));

/** @param {{training: Training | null, saved: (x: Training) => void, reload?: (current: unknown) => void}} props */
function TrainingForm({ training, saved, reload }) {
  const [name, setName] = useState(training?.name ?? '');
  const [provider, setProvider] = useState(training?.provider ?? '');
  const [months, setMonths] = useState(training?.recertify_months ? String(training.recertify_months) : '');
  const [deEscalation, setDeEscalation] = useState(training?.de_escalation ?? false);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(/** @type {unknown} */ (null));

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    const errs = checkTraining({ name, provider, months }, training);
    setErrors(errs);
    if (errs.length) return;
    /** @type {Schemas['NewTrainingIn']} */
    const body = { name: name.trim(), provider: provider.trim(), de_escalation: deEscalation };
    if (months.trim()) body.recertify_months = Number(months.trim());
    setBusy(true);
    try {
      const x = training
        ? await api('patch', '/v1/trainings/{id}', { params: { id: training.id }, body, headers: { 'if-match': `"${training.version}"` } })
        : await api('post', '/v1/trainings', { body });
      saved(x);
      if (!training) { setName(''); setProvider(''); setMonths(''); setDeEscalation(false); }
    } catch (e) {
      if (isStale(e)) setStale(/** @type {any} */ (e).problem.current ?? {});
      else setErrors(refusal(e, 'name', { conflict: t('admin.trainings.err.taken'), conflictField: 'name' }));
    } finally {
      setBusy(false);
    }
  }
  const p = training ? 'training-edit' : 'training';
  return html`${stale && reload ? html`<${StaleNotice} what=${t('admin.trainings.what')} onReload=${() => reload(stale)} />` : ''}
    <form onSubmit=${submit} novalidate data-testid=${training ? 'edit-training' : 'new-training'}>
      <${ErrorSummary} errors=${errors} prefix=${p} labels=${trainingLabels()} />
      <${Text} prefix=${p} field="name" label=${t('admin.trainings.name')} hint=${t('admin.trainings.nameHint')} value=${name} set=${setName} errors=${errors} autocomplete="off" />
      <${Text} prefix=${p} field="provider" label=${t('admin.trainings.provider')} value=${provider} set=${setProvider} errors=${errors} autocomplete="off" />
      <${Text} prefix=${p} field="recertify_months" label=${t('admin.trainings.months')} hint=${training?.recertify_months ? t('admin.trainings.monthsHintSet') : t('admin.trainings.monthsHint')}
        value=${months} set=${setMonths} errors=${errors} inputMode="numeric" autocomplete="off" width="5" />
      <${Check} prefix=${p} field="de_escalation" label=${t('admin.trainings.deEscalation')} hint=${t('admin.trainings.deEscalationHint')} checked=${deEscalation} set=${setDeEscalation} errors=${errors} />
      <div class="actions">
        <button class="primary" type="submit" disabled=${busy || Boolean(stale)}>${busy ? t('admin.saving') : training ? t('admin.trainings.save') : t('admin.trainings.addSubmit')}</button>
        ${training && html`<a class="button secondary" href="#/admin-trainings">${t('admin.cancel')}</a>`}
      </div>
    </form>`;
}

const loadTrainings = () => api('get', '/v1/trainings').then((r) => r.items);

export function Trainings() {
  const heading = useFocusHeading();
  const list = useLoad(loadTrainings, 'trainings');
  const [saved, setSaved] = useState(takeFlash);
  return html`<main id="main" class="admin">
    <h1 tabindex="-1" ref=${heading}>${t('admin.trainings.title')}</h1>
    <p class="lead">${t('admin.trainings.lead')}</p>
    <${OfflineNotice} />
    <div class="admin-columns">
      <section aria-labelledby="trainings-list-title">
        <h2 id="trainings-list-title">${t('admin.trainings.listTitle')}</h2>
        ${!list.data ? html`<${LoadNotice} state=${list.state} retry=${list.retry} />`
          : list.data.length === 0 ? html`<p class="muted">${t('admin.trainings.none')}</p>`
          : html`<div class="table-wrap"><table class="data stack" data-testid="trainings">
          <caption class="visually-hidden">${t('admin.trainings.listTitle')}</caption>
          <thead><tr>
            <th scope="col">${t('admin.trainings.name')}</th>
            <th scope="col">${t('admin.trainings.provider')}</th>
            <th scope="col">${t('admin.trainings.renewal')}</th>
            <th scope="col">${t('admin.trainings.deEscalationShort')}</th>
            <th scope="col"><span class="visually-hidden">${t('admin.actions')}</span></th>
          </tr></thead>
          <tbody>${list.data.map((tr) => html`<tr key=${tr.id}>
            <th scope="row">${tr.name}</th>
            <td data-label=${t('admin.trainings.provider')}>${tr.provider}</td>
            <td data-label=${t('admin.trainings.renewal')}>${renewal(tr)}</td>
            <td data-label=${t('admin.trainings.deEscalationShort')}>${tr.de_escalation ? t('admin.yes') : t('admin.no')}</td>
            <td><a class="row-link" href=${'#/admin-trainings/' + tr.id}>${t('admin.change')}<span class="visually-hidden"> ${tr.name}</span></a></td>
          </tr>`)}</tbody>
        </table></div>`}
      </section>
      <section aria-labelledby="training-add-title" class="panel">
        <h2 id="training-add-title">${t('admin.trainings.add')}</h2>
        <${Saved} message=${saved} />
        <${TrainingForm} training=${null} saved=${(/** @type {Training} */ x) => {
          setSaved(t('admin.trainings.added', { name: x.name }));
          list.replace([...(list.data ?? []), x].sort((a, b) => a.name.localeCompare(b.name)));
        }} />
      </section>
    </div>
  </main>`;
}

/** @param {{id: string}} props */
export function TrainingEdit({ id }) {
  const heading = useFocusHeading();
  const loaded = useLoad(async () => {
    const training = (await loadTrainings()).find((x) => x.id === id);
    if (!training) throw notFound();
    return training;
  }, 'training-' + id);
  const tr = loaded.data;
  return html`<main id="main" class="admin form-screen">
    <p class="breadcrumb"><a href="#/admin-trainings">${t('admin.trainings.back')}</a></p>
    <h1 tabindex="-1" ref=${heading}>${tr ? t('admin.trainings.editTitle', { name: tr.name }) : t('admin.trainings.title')}</h1>
    <${OfflineNotice} />
    ${!tr ? html`<${LoadNotice} state=${loaded.state} retry=${loaded.retry} />`
      : html`<p class="hint">${t('admin.trainings.editLead')}</p>
        <${TrainingForm} key=${tr.version} training=${tr}
          saved=${(/** @type {Training} */ x) => { flash = t('admin.trainings.saved', { name: x.name }); location.hash = '#/admin-trainings'; }}
          reload=${(/** @type {any} */ current) => (current?.version ? loaded.replace(current) : loaded.retry())} />`}
  </main>`;
}

// ---- Rules of behavior ----

const LIBRARY = '';

/** @param {Rule} r @param {Branch[] | undefined} branches */
const whereOf = (r, branches) => (!r.branch_id ? t('admin.rules.libraryWide') : branches?.find((b) => b.id === r.branch_id)?.name ?? t('admin.staff.unknownBranch'));

const loadRules = async () => {
  const [rules, branches] = await Promise.all([api('get', '/v1/rules', { query: { include_inactive: true } }), allBranches()]);
  return { rules: rules.items, branches };
};

export function Rules() {
  const heading = useFocusHeading();
  const list = useLoad(loadRules, 'rules');
  const [saved, setSaved] = useState(takeFlash);
  const [code, setCode] = useState('');
  const [text, setText] = useState('');
  const [where, setWhere] = useState(LIBRARY);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!code.trim()) errs.push({ field: 'code', message: t('admin.rules.err.code') });
    if (!text.trim()) errs.push({ field: 'text', message: t('admin.rules.err.text') });
    setErrors(errs);
    if (errs.length) return;
    /** @type {Schemas['NewRuleIn']} */
    const body = { code: code.trim(), text: text.trim() };
    if (where !== LIBRARY) body.branch_id = where;
    setBusy(true);
    try {
      const r = await api('post', '/v1/rules', { body });
      setSaved(t('admin.rules.added', { code: r.code }));
      setCode(''); setText(''); setWhere(LIBRARY);
      if (list.data) list.replace({ ...list.data, rules: [...list.data.rules, r].sort((a, b) => a.code.localeCompare(b.code)) });
    } catch (e) {
      setErrors(refusal(e, 'code', { conflict: t('admin.rules.err.taken'), conflictField: 'code' }));
    } finally {
      setBusy(false);
    }
  }
  const labels = { code: t('admin.rules.code'), text: t('admin.rules.text'), branch_id: t('admin.rules.where') };
  const data = list.data;
  return html`<main id="main" class="admin">
    <h1 tabindex="-1" ref=${heading}>${t('admin.rules.title')}</h1>
    <p class="lead">${t('admin.rules.lead')}</p>
    <${OfflineNotice} />
    <div class="admin-columns">
      <section aria-labelledby="rules-list-title">
        <h2 id="rules-list-title">${t('admin.rules.listTitle')}</h2>
        ${!data ? html`<${LoadNotice} state=${list.state} retry=${list.retry} />`
          : data.rules.length === 0 ? html`<p class="muted">${t('admin.rules.none')}</p>`
          : html`<ul class="list" data-testid="rules">${data.rules.map((r) => html`<li class=${'item rule' + (r.active ? '' : ' inactive')} key=${r.id} data-testid="rule">
              <div class="item-head">
                <code class="rule-code">${r.code}</code>
                <span class=${'badge ' + (r.active ? 'badge-active' : 'badge-inactive')}>${r.active ? t('admin.rules.active') : t('admin.rules.retired')}</span>
              </div>
              <p class="prewrap rule-text">${r.text}</p>
              <p class="muted">${whereOf(r, data.branches)}</p>
              <a class="row-link" href=${'#/admin-rules/' + r.id}>${t('admin.change')}<span class="visually-hidden"> ${r.code}</span></a>
            </li>`)}</ul>`}
      </section>
      <section aria-labelledby="rule-add-title" class="panel">
        <h2 id="rule-add-title">${t('admin.rules.add')}</h2>
        <${Saved} message=${saved} />
        <form onSubmit=${submit} novalidate data-testid="new-rule">
          <${ErrorSummary} errors=${errors} prefix="rule" labels=${labels} />
          <${Text} prefix="rule" field="code" label=${t('admin.rules.code')} hint=${t('admin.rules.codeHint')} value=${code} set=${setCode} errors=${errors}
            autocomplete="off" spellcheck=${false} width="20" />
          <${Text} prefix="rule" field="text" label=${t('admin.rules.text')} hint=${t('admin.rules.textHint')} value=${text} set=${setText} errors=${errors} multi=${true} rows=${3} />
          <div class="field">
            <label for="rule-branch_id">${t('admin.rules.where')}</label>
            <p class="hint" id="rule-branch_id-hint">${t('admin.rules.whereHint')}</p>
            <select id="rule-branch_id" value=${where} aria-describedby="rule-branch_id-hint" onChange=${(/** @type {any} */ e) => setWhere(e.currentTarget.value)}>
              <option value=${LIBRARY}>${t('admin.rules.libraryWide')}</option>
              ${(data?.branches ?? []).map((b) => html`<option value=${b.id}>${b.name}</option>`)}
            </select>
          </div>
          <button class="primary" type="submit" disabled=${busy}>${busy ? t('admin.saving') : t('admin.rules.addSubmit')}</button>
        </form>
      </section>
    </div>
  </main>`;
}

/** @param {{id: string}} props */
export function RuleEdit({ id }) {
  const heading = useFocusHeading();
  const loaded = useLoad(async () => {
    const { rules, branches } = await loadRules();
    const rule = rules.find((x) => x.id === id);
    if (!rule) throw notFound();
    return { rule, branches };
  }, 'rule-' + id);
  const data = loaded.data;
  return html`<main id="main" class="admin form-screen">
    <p class="breadcrumb"><a href="#/admin-rules">${t('admin.rules.back')}</a></p>
    <h1 tabindex="-1" ref=${heading}>${data ? t('admin.rules.editTitle', { code: data.rule.code }) : t('admin.rules.title')}</h1>
    <${OfflineNotice} />
    ${!data ? html`<${LoadNotice} state=${loaded.state} retry=${loaded.retry} />`
      : html`<dl class="facts">
          <div><dt>${t('admin.rules.code')}</dt><dd><code>${data.rule.code}</code></dd></div>
          <div><dt>${t('admin.rules.where')}</dt><dd>${whereOf(data.rule, data.branches)}</dd></div>
        </dl>
        <${RuleForm} key=${data.rule.version} rule=${data.rule}
          saved=${(/** @type {Rule} */ x) => { flash = t('admin.rules.saved', { code: x.code }); location.hash = '#/admin-rules'; }}
          reload=${(/** @type {any} */ current) => (current?.version ? loaded.replace({ ...data, rule: current }) : loaded.retry())} />`}
  </main>`;
}

/** @param {{rule: Rule, saved: (r: Rule) => void, reload: (current: unknown) => void}} props */
function RuleForm({ rule, saved, reload }) {
  const [text, setText] = useState(rule.text);
  const [active, setActive] = useState(rule.active ? 'yes' : 'no');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(/** @type {unknown} */ (null));

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    if (!text.trim()) return setErrors([{ field: 'text', message: t('admin.rules.err.text') }]);
    /** @type {Schemas['RulePatchIn']} */
    const body = {};
    if (text.trim() !== rule.text) body.text = text.trim();
    if ((active === 'yes') !== rule.active) body.active = active === 'yes';
    if (!Object.keys(body).length) return setErrors([{ field: 'text', message: t('admin.nothingChanged') }]);
    setErrors([]);
    setBusy(true);
    try {
      saved(await api('patch', '/v1/rules/{id}', { params: { id: rule.id }, body, headers: { 'if-match': `"${rule.version}"` } }));
    } catch (e) {
      if (isStale(e)) setStale(/** @type {any} */ (e).problem.current ?? {});
      else setErrors(refusal(e, 'text'));
      setBusy(false);
    }
  }
  const labels = { text: t('admin.rules.text'), active: t('admin.rules.state') };
  return html`${stale ? html`<${StaleNotice} what=${t('admin.rules.what')} onReload=${() => reload(stale)} />` : ''}
    <form onSubmit=${submit} novalidate data-testid="edit-rule">
      <${ErrorSummary} errors=${errors} prefix="rule-edit" labels=${labels} />
      <${Text} prefix="rule-edit" field="text" label=${t('admin.rules.text')} hint=${t('admin.rules.textHint')} value=${text} set=${setText} errors=${errors} multi=${true} rows=${3} />
      <${Choices} prefix="rule-edit" field="active" legend=${t('admin.rules.state')} value=${active} set=${setActive} errors=${errors}
        options=${[
          { value: 'yes', label: t('admin.rules.active'), hint: t('admin.rules.activeHint') },
          { value: 'no', label: t('admin.rules.retired'), hint: t('admin.rules.retiredHint') },
        ]} />
      <div class="actions">
        <button class="primary" type="submit" disabled=${busy || Boolean(stale)}>${busy ? t('admin.saving') : t('admin.rules.save')}</button>
        <a class="button secondary" href="#/admin-rules">${t('admin.cancel')}</a>
      </div>
    </form>`;
}
