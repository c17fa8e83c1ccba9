// Patrons in the copy (found by name prefix) with their case summaries, and editing one.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { editPatron } from '../lib/actions.js';
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
      <strong>${patron.preferred_name}</strong>
      ${pending && html`<${Badge} state=${pending.state} />`}
    </div>
    ${cases.length
      ? cases.map((c) => html`<div class="summary">${c.summary ? t('patrons.case', { summary: c.summary }) : t('patrons.noSummary')}</div>`)
      : html`<div class="muted">${t('patrons.noCase')}</div>`}
    ${copy.account?.role === 'supervisor' && html`<a class="button secondary" href=${'#/patron/' + patron.id}>${t('patron.title')}<span class="visually-hidden">${t('patrons.editWho', { name: patron.preferred_name })}</span></a>`}
  </li>`;
}

export function Patrons() {
  const heading = useFocusHeading();
  const [query, setQuery] = useState('');
  const all = copy.all('patron').sort((a, b) => a.preferred_name.localeCompare(b.preferred_name));
  const shown = query.trim() ? all.filter((p) => nameMatches(p, query)) : all;
  return html`<main id="main">
    <h1 tabindex="-1" ref=${heading}>${t('patrons.title')}</h1>
    <div class="field">
      <label for="patrons-search">${t('patrons.search')}</label>
      <input id="patrons-search" type="search" autocomplete="off" value=${query} onInput=${(/** @type {any} */ e) => setQuery(e.currentTarget.value)} />
    </div>
    ${shown.length ? html`<ul class="list cards">${shown.map((p) => html`<${PatronCard} key=${p.id} patron=${p} />`)}</ul>` : html`<p role="status">${t('patrons.none')}</p>`}
  </main>`;
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
