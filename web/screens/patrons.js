// Patrons in the copy (found by name prefix) with their case summaries, and editing one.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { editPatron, queueWrite } from '../lib/actions.js';
import { api, ApiError } from '../lib/api.js';
import { status, syncSoon } from '../lib/sync.js';
import { uuidv7 } from '../lib/uuid.js';
import { nameMatches } from './log.js';
import { Badge, ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {import('../lib/copy.js').Entry} Entry */

const PREFERENCES = /** @type {Schemas['ContactPreference'][]} */ (['phone', 'text_message', 'email', 'in_person', 'mail']);

/** @param {{patron: any}} props */
export function PatronCard({ patron }) {
  const cases = copy.all('case').filter((c) => c.patron_id === patron.id && c.status === 'open');
  const pending = copy.pendingFor('patron', patron.id);
  return html`<li class="item">
    <div class="item-head">
      <a href=${'#/patron/' + patron.id}><strong>${patron.preferred_name}</strong></a>
      ${pending && html`<${Badge} state=${pending.state} />`}
    </div>
    ${cases.length
      ? cases.map((c) => html`<div class="summary"><a href=${'#/case/' + c.id}>${c.summary ? t('patrons.case', { summary: c.summary }) : t('patrons.noSummary')}</a></div>`)
      : html`<div class="muted">${t('patrons.noCase')}</div>`}
    ${copy.account?.role === 'supervisor' && html`<a class="button secondary" href=${'#/patron/' + patron.id + '/edit'}>${t('patron.title')}<span class="visually-hidden">${t('patrons.editWho', { name: patron.preferred_name })}</span></a>`}
  </li>`;
}

export function Patrons() {
  const heading = useFocusHeading();
  const [query, setQuery] = useState('');
  const [server, setServer] = useState(/** @type {{q: string, items: any[]} | null} */ (null));
  const [searching, setSearching] = useState(false);
  const [serverError, setServerError] = useState('');
  const [adding, setAdding] = useState(false);
  const all = copy.all('patron').sort((a, b) => a.preferred_name.localeCompare(b.preferred_name));
  const shown = query.trim() ? all.filter((p) => nameMatches(p, query)) : all;
  const beyond = server && server.q === query.trim() ? server.items.filter((p) => !copy.get('patron', p.id)) : [];

  /** Asks the server for patrons not (yet) in the copy: online only. */
  async function searchServer() {
    const q = query.trim();
    if (!q) return;
    setServerError('');
    if (!status.online) return setServerError(t('patrons.serverOffline'));
    setSearching(true);
    try {
      const page = await api('get', '/v1/patrons', { query: { q, limit: 50 } });
      setServer({ q, items: page.items });
      if (page.items.some((p) => !copy.get('patron', p.id))) syncSoon();
    } catch (e) {
      setServerError(e instanceof ApiError && e.offline ? t('patrons.serverOffline') : t('errors.server'));
    } finally {
      setSearching(false);
    }
  }

  return html`<main id="main">
    <h1 tabindex="-1" ref=${heading}>${t('patrons.title')}</h1>
    <div class="field">
      <label for="patrons-search">${t('patrons.search')}</label>
      <p class="hint" id="patrons-search-hint">${t('patrons.searchHint')}</p>
      <div class="inline-form">
        <input id="patrons-search" type="search" autocomplete="off" aria-describedby="patrons-search-hint" value=${query} onInput=${(/** @type {any} */ e) => setQuery(e.currentTarget.value)} />
        <button type="button" class="secondary" onClick=${searchServer} disabled=${searching || !query.trim()}>${searching ? t('patrons.searching') : t('patrons.searchServer')}</button>
      </div>
      ${serverError && html`<p class="field-error" role="status">${serverError}</p>`}
    </div>
    ${beyond.length > 0 && html`<section aria-labelledby="patrons-beyond"><h2 id="patrons-beyond">${t('patrons.beyond')}</h2>
      <p class="hint">${t('patrons.beyondHint')}</p>
      <ul class="list">${beyond.map((p) => html`<li class="item" key=${p.id}><strong>${p.preferred_name}</strong>${p.birth_year ? ` · ${p.birth_year}` : ''}</li>`)}</ul></section>`}
    ${server && server.q === query.trim() && !beyond.length && html`<p role="status" class="muted">${t('patrons.serverNothingMore')}</p>`}
    ${shown.length ? html`<ul class="list cards">${shown.map((p) => html`<${PatronCard} key=${p.id} patron=${p} />`)}</ul>` : html`<p role="status">${t('patrons.none')}</p>`}
    ${copy.account?.role !== 'supervisor' && (adding
      ? html`<${NewPatron} startName=${query} done=${() => setAdding(false)} />`
      : html`<p><button type="button" class="secondary" onClick=${() => setAdding(true)}>${t('patrons.add')}</button></p>`)}
  </main>`;
}

/**
 * A new patron, with the possible duplicates (same name and birth year, as
 * the server flags them) shown before it is saved: nothing is ever merged.
 * @param {{startName: string, done: () => void}} props
 */
function NewPatron({ startName, done }) {
  const [name, setName] = useState(startName);
  const [year, setYear] = useState('');
  const [branch, setBranch] = useState(copy.branches[0]?.id ?? copy.account?.branches[0] ?? '');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [confirmed, setConfirmed] = useState(false);
  const birthYear = /^\d{4}$/.test(year.trim()) ? Number(year.trim()) : undefined;
  const fold = (/** @type {string} */ s) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();
  const duplicates = name.trim()
    ? copy.all('patron').filter((p) => fold(p.preferred_name) === fold(name) && (birthYear === undefined || !p.birth_year || p.birth_year === birthYear))
    : [];

  /** @param {Event} ev */
  async function save(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!name.trim()) errs.push({ field: 'preferred_name', message: t('patron.err.name') });
    if (year.trim() && birthYear === undefined) errs.push({ field: 'birth_year', message: t('newPatron.err.year') });
    setErrors(errs);
    if (errs.length) return;
    if (duplicates.length && !confirmed) return setConfirmed(true);
    const id = uuidv7();
    const now = new Date().toISOString();
    /** @type {Schemas['NewPatronIn']} */
    const body = { id, preferred_name: name.trim(), home_branch_id: branch };
    if (birthYear !== undefined) body.birth_year = birthYear;
    await queueWrite(
      { method: 'POST', path: '/v1/patrons', body, kind: 'patron', id, label: t('op.patronNew', { name: body.preferred_name }) },
      { ...body, do_not_contact: false, version: 1, created_by: copy.account?.staff_id, created_at: now, updated_at: now },
    );
    done();
    location.hash = '#/patron/' + id;
  }
  const cls = (/** @type {string} */ f) => 'field' + (errorFor(errors, f) ? ' has-error' : '');
  return html`<form onSubmit=${save} novalidate class="new-patron">
    <h2>${t('newPatron.title')}</h2>
    <p class="hint">${t('newPatron.hint')}</p>
    <${ErrorSummary} errors=${errors} prefix="new-patron" labels=${{ preferred_name: t('patron.preferredName'), birth_year: t('newPatron.year') }} />
    <div class=${cls('preferred_name')}>
      <label for="new-patron-preferred_name">${t('patron.preferredName')}</label>
      <${FieldMessage} id="new-patron-preferred_name" message=${errorFor(errors, 'preferred_name')} />
      <input id="new-patron-preferred_name" value=${name} onInput=${(/** @type {any} */ e) => { setName(e.currentTarget.value); setConfirmed(false); }} />
    </div>
    <div class=${cls('birth_year')}>
      <label for="new-patron-birth_year">${t('newPatron.year')}</label>
      <${FieldMessage} id="new-patron-birth_year" message=${errorFor(errors, 'birth_year')} />
      <input id="new-patron-birth_year" inputmode="numeric" value=${year} onInput=${(/** @type {any} */ e) => { setYear(e.currentTarget.value); setConfirmed(false); }} />
    </div>
    ${copy.branches.length > 1 && html`<div class="field">
      <label for="new-patron-branch">${t('newPatron.branch')}</label>
      <select id="new-patron-branch" value=${branch} onChange=${(/** @type {any} */ e) => setBranch(e.currentTarget.value)}>
        ${copy.branches.map((b) => html`<option value=${b.id}>${b.name}</option>`)}
      </select></div>`}
    ${duplicates.length > 0 && html`<div class="warning" role="status" data-testid="possible-duplicates">
      <h3>${t('newPatron.duplicates')}</h3>
      <ul>${duplicates.map((p) => html`<li><a href=${'#/patron/' + p.id}>${p.preferred_name}</a>${p.birth_year ? ` (${p.birth_year})` : ''}</li>`)}</ul>
      <p>${confirmed ? t('newPatron.confirm') : t('newPatron.duplicatesHint')}</p>
    </div>`}
    <div class="actions">
      <button class="primary" type="submit">${duplicates.length && confirmed ? t('newPatron.saveAnyway') : t('newPatron.save')}</button>
      <button class="secondary" type="button" onClick=${done}>${t('common.cancel')}</button>
    </div>
  </form>`;
}

/**
 * @param {{id: string, fixing?: Entry, done?: () => void}} props
 */
export function EditPatron({ id, fixing, done }) {
  const heading = useFocusHeading();
  const patron = copy.get('patron', id);
  /** @type {Schemas['PatronPatchIn']} */
  const start = { ...(patron ?? {}), ...(fixing?.op.body ?? {}) };
  const [name, setName] = useState(start.preferred_name ?? '');
  const [language, setLanguage] = useState(start.language ?? '');
  const [pref, setPref] = useState(start.contact_preference ?? '');
  const [dnc, setDnc] = useState(start.do_not_contact ?? false);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ (fixing?.op.problem?.errors ?? []));
  const [saved, setSaved] = useState('');
  if (!patron) return html`<main id="main"><h1 tabindex="-1" ref=${heading}>${t('patron.title')}</h1><p>${t('patron.missing')}</p></main>`;

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    if (!name.trim()) return setErrors([{ field: 'preferred_name', message: t('patron.err.name') }]);
    setErrors([]);
    /** @type {Schemas['PatronPatchIn']} */
    const changes = {};
    if (name !== (patron.preferred_name ?? '')) changes.preferred_name = name;
    if (language !== (patron.language ?? '') && language.trim()) changes.language = language;
    if (pref !== (patron.contact_preference ?? '') && pref) changes.contact_preference = /** @type {Schemas['ContactPreference']} */ (pref);
    if (dnc !== patron.do_not_contact) changes.do_not_contact = dnc;
    if (fixing) Object.assign(changes, { ...fixing.op.body, ...changes });
    if (!Object.keys(changes).length) return setSaved(t('patron.nothing'));
    await editPatron(patron, changes, fixing);
    if (done) return done();
    setSaved(t('patron.saved'));
  }

  const labels = { preferred_name: t('patron.preferredName'), language: t('patron.language'), contact_preference: t('patron.contactPreference'), do_not_contact: t('patron.doNotContact') };
  const cls = (/** @type {string} */ f) => 'field' + (errorFor(errors, f) ? ' has-error' : '');
  return html`<main id="main" class="form-screen">
    <h1 tabindex="-1" ref=${heading}>${fixing ? t('patron.fixTitle') : t('patron.title')}: ${patron.preferred_name}</h1>
    ${saved && html`<p class="confirmation" role="status">${saved}</p>`}
    <${ErrorSummary} errors=${errors} prefix="patron" labels=${labels} />
    <form onSubmit=${submit} novalidate>
      <div class=${cls('preferred_name')}>
        <label for="patron-preferred_name">${t('patron.preferredName')}</label>
        <${FieldMessage} id="patron-preferred_name" message=${errorFor(errors, 'preferred_name')} />
        <input id="patron-preferred_name" value=${name} onInput=${(/** @type {any} */ e) => setName(e.currentTarget.value)} />
      </div>
      <div class=${cls('language')}>
        <label for="patron-language">${t('patron.language')}</label>
        <${FieldMessage} id="patron-language" message=${errorFor(errors, 'language')} />
        <input id="patron-language" value=${language} onInput=${(/** @type {any} */ e) => setLanguage(e.currentTarget.value)} />
      </div>
      <div class=${cls('contact_preference')}>
        <label for="patron-contact_preference">${t('patron.contactPreference')}</label>
        <${FieldMessage} id="patron-contact_preference" message=${errorFor(errors, 'contact_preference')} />
        <select id="patron-contact_preference" value=${pref} onChange=${(/** @type {any} */ e) => setPref(e.currentTarget.value)}>
          <option value="">${t('patron.noPreference')}</option>
          ${PREFERENCES.map((p) => html`<option value=${p}>${t('pref.' + p)}</option>`)}
        </select>
      </div>
      <div class=${cls('do_not_contact')}>
        <label class="check"><input id="patron-do_not_contact" type="checkbox" checked=${dnc} onChange=${(/** @type {any} */ e) => setDnc(e.currentTarget.checked)} />
          <span>${t('patron.doNotContact')}</span></label>
      </div>
      <button class="primary" type="submit">${t('patron.save')}</button>
      <p><a href="#/patrons">${t('patron.back')}</a></p>
    </form>
  </main>`;
}
