// The service directory: searching it (a page at a time), adding an entry
// and changing one (If-Match). The import of Open Referral (HSDS) files has
// its own place at the foot of the directory screen (added separately).
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { ErrorSummary, useFocusHeading } from './ui.js';
import { Choices, LoadNotice, NEEDS, OfflineNotice, Saved, ShowMore, StaleNotice, Text, isStale, refusal, useLoad, usePaged } from './admin-ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {Schemas['ServiceOut']} Service */
/** @typedef {Schemas['Need']} Need */

const PAGE = 20;

/** A message for the next screen (held in memory until it is shown). */
let flash = '';
function takeFlash() {
  const m = flash;
  flash = '';
  return m;
}

/** @param {{status: string}} props */
function StatusBadge({ status }) {
  return html`<span class=${'badge ' + (status === 'active' ? 'badge-active' : 'badge-inactive')}>${t('admin.services.status.' + status)}</span>`;
}

export function Directory() {
  const heading = useFocusHeading();
  const [q, setQ] = useState('');
  const [category, setCategory] = useState('');
  const [status, setStatus] = useState('');
  const [asked, setAsked] = useState({ q: '', category: '', status: '' });
  const [saved] = useState(takeFlash);
  const paged = usePaged((cursor) => {
    /** @type {{limit: number, cursor?: string, q?: string, category?: Need, status?: Schemas['ServiceStatus']}} */
    const query = { limit: PAGE };
    if (cursor) query.cursor = cursor;
    if (asked.q.trim()) query.q = asked.q.trim();
    if (asked.category) query.category = /** @type {Need} */ (asked.category);
    if (asked.status) query.status = /** @type {Schemas['ServiceStatus']} */ (asked.status);
    return api('get', '/v1/services', { query });
  }, 'services:' + JSON.stringify(asked));

  /** @param {Event} ev */
  function search(ev) {
    ev.preventDefault();
    setAsked({ q, category, status });
  }
  const searching = Boolean(asked.q || asked.category || asked.status);

  return html`<main id="main" class="admin">
    <div class="page-head">
      <h1 tabindex="-1" ref=${heading}>${t('admin.services.title')}</h1>
      <a class="button primary" href="#/admin-directory/new">${t('admin.services.add')}</a>
    </div>
    <p class="lead">${t('admin.services.lead')}</p>
    <${OfflineNotice} />
    <${Saved} message=${saved} />
    <form class="search-form" role="search" aria-label=${t('admin.services.searchLabel')} onSubmit=${search} novalidate>
      <div class="field search-q">
        <label for="services-q">${t('admin.services.q')}</label>
        <p class="hint" id="services-q-hint">${t('admin.services.qHint')}</p>
        <input id="services-q" type="search" value=${q} aria-describedby="services-q-hint" autocomplete="off" onInput=${(/** @type {any} */ e) => setQ(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="services-category">${t('admin.services.category')}</label>
        <select id="services-category" value=${category} onChange=${(/** @type {any} */ e) => setCategory(e.currentTarget.value)}>
          <option value="">${t('admin.services.anyCategory')}</option>
          ${NEEDS.map((n) => html`<option value=${n}>${t('need.' + n)}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="services-status">${t('admin.services.statusLabel')}</label>
        <select id="services-status" value=${status} onChange=${(/** @type {any} */ e) => setStatus(e.currentTarget.value)}>
          <option value="">${t('admin.services.anyStatus')}</option>
          <option value="active">${t('admin.services.status.active')}</option>
          <option value="inactive">${t('admin.services.status.inactive')}</option>
        </select>
      </div>
      <div class="field search-submit"><button class="primary" type="submit">${t('admin.services.search')}</button></div>
    </form>
    <section aria-labelledby="services-results-title">
      <h2 id="services-results-title">${searching ? t('admin.services.results') : t('admin.services.all')}</h2>
      ${paged.state !== 'ready' ? html`<${LoadNotice} state=${paged.state} retry=${paged.retry} />`
        : paged.items.length === 0 ? html`<p role="status" data-testid="no-services">${t('admin.services.none')}</p>`
        : html`<ul class="list card-grid" data-testid="services">${paged.items.map((s) => html`<li class=${'item service' + (s.status === 'active' ? '' : ' inactive')} key=${s.id} data-testid="service">
            <div class="item-head"><a class="item-title" href=${'#/admin-directory/' + s.id}>${s.name}</a><${StatusBadge} status=${s.status} /></div>
            <p class="org">${s.organization_name}</p>
            <dl class="facts">
              <div><dt>${t('admin.services.categories')}</dt><dd>${s.categories.map((c) => t('need.' + c)).join(', ')}</dd></div>
              ${s.phone && html`<div><dt>${t('admin.services.phone')}</dt><dd>${s.phone}</dd></div>`}
              ${s.languages.length > 0 && html`<div><dt>${t('admin.services.languages')}</dt><dd>${s.languages.join(', ')}</dd></div>`}
            </dl>
          </li>`)}</ul>
          <${ShowMore} paged=${paged} label=${t('admin.services.more')} />`}
    </section>
    <${ImportSlot} />
  </main>`;
}

/**
 * Importing Open Referral (HSDS) data: one `.json` file, or the CSV files of a
 * package, read on the device and sent to `POST /v1/services/import`, which
 * loads them as the console's `casework directory import` does. The answer
 * counts what was created and updated and lists each row that did not load.
 */
function ImportSlot() {
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [report, setReport] = useState(/** @type {Schemas['HsdsImportOut'] | null} */ (null));

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    const input = /** @type {HTMLInputElement | null} */ (document.getElementById('import-files'));
    const chosen = [...(input?.files ?? [])];
    setReport(null);
    if (!chosen.length) return setErrors([{ field: 'files', message: t('admin.import.err.none') }]);
    if (chosen.reduce((n, f) => n + f.size, 0) > 1024 * 1024) return setErrors([{ field: 'files', message: t('admin.import.err.size') }]);
    setErrors([]);
    setBusy(true);
    try {
      const files = await Promise.all(chosen.map(async (f) => ({ name: f.name, text: await f.text() })));
      setReport(await api('post', '/v1/services/import', { body: { files } }));
    } catch (e) {
      setErrors(refusal(e, 'files'));
    } finally {
      setBusy(false);
    }
  }

  return html`<section class="directory-import" aria-labelledby="import-title" data-slot="hsds-import">
    <h2 id="import-title">${t('admin.import.title')}</h2>
    <p class="hint">${t('admin.import.lead')}</p>
    <${ErrorSummary} errors=${errors} prefix="import" labels=${{ files: t('admin.import.files') }} />
    <form onSubmit=${submit} novalidate>
      <div class=${'field' + (errors.length ? ' has-error' : '')}>
        <label for="import-files">${t('admin.import.files')}</label>
        <p class="hint" id="import-files-hint">${t('admin.import.filesHint')}</p>
        ${errors.map((e) => html`<p class="field-error" id="import-files-error"><span class="visually-hidden">${t('errors.prefix')} </span>${e.message}</p>`)}
        <input id="import-files" type="file" multiple accept=".json,.csv,application/json,text/csv" aria-describedby="import-files-hint" />
      </div>
      <button class="secondary" type="submit" disabled=${busy}>${busy ? t('admin.import.busy') : t('admin.import.submit')}</button>
    </form>
    ${report && html`<div class="confirmation" role="status" data-testid="import-report">
      <p>${t('admin.import.done', { created: report.created, updated: report.updated })}</p>
      ${report.errors.length > 0 && html`<p>${t('admin.import.notLoaded', { n: report.errors.length })}</p>
        <ul>${report.errors.map((e) => html`<li>${t('admin.import.row', { file: e.file, line: e.line, message: e.message })}</li>`)}</ul>`}
    </div>`}
  </section>`;
}

/** @param {{id: string}} props `new` for a new entry */
export function ServiceEdit({ id }) {
  const heading = useFocusHeading();
  const isNew = id === 'new';
  const loaded = useLoad(() => (isNew ? Promise.resolve(null) : api('get', '/v1/services/{id}', { params: { id } })), 'service-' + id);
  const [saved, setSaved] = useState(takeFlash);
  const s = loaded.data;
  const title = isNew ? t('admin.services.addTitle') : s ? t('admin.services.editTitle', { name: s.name }) : t('admin.services.title');
  return html`<main id="main" class="admin form-screen">
    <p class="breadcrumb"><a href="#/admin-directory">${t('admin.services.back')}</a></p>
    <h1 tabindex="-1" ref=${heading}>${title}</h1>
    <${OfflineNotice} />
    <${Saved} message=${saved} />
    ${loaded.state !== 'ready' ? html`<${LoadNotice} state=${loaded.state} retry=${loaded.retry} />`
      : html`<${ServiceForm} key=${s?.version ?? 0} service=${s}
          saved=${(/** @type {Service} */ x) => {
            if (isNew) {
              flash = t('admin.services.added', { name: x.name });
              location.hash = '#/admin-directory/' + x.id;
            } else {
              loaded.replace(x);
              setSaved(t('admin.services.saved', { name: x.name }));
            }
          }}
          reload=${(/** @type {any} */ current) => { setSaved(''); if (current?.version) loaded.replace(current); else loaded.retry(); }} />`}
  </main>`;
}

/** "en, es" → ["en", "es"] @param {string} text */
const languagesOf = (text) => text.split(',').map((x) => x.trim()).filter(Boolean);

/** @param {{service: Service | null | undefined, saved: (s: Service) => void, reload: (current: unknown) => void}} props */
function ServiceForm({ service, saved, reload }) {
  const [org, setOrg] = useState(service?.organization_name ?? '');
  const [name, setName] = useState(service?.name ?? '');
  const [categories, setCategories] = useState(/** @type {string[]} */ (service?.categories ?? []));
  const [phone, setPhone] = useState(service?.phone ?? '');
  const [email, setEmail] = useState(service?.email ?? '');
  const [address, setAddress] = useState(service?.address ?? '');
  const [eligibility, setEligibility] = useState(service?.eligibility ?? '');
  const [languages, setLanguages] = useState((service?.languages ?? []).join(', '));
  const [status, setStatus] = useState(/** @type {string} */ (service?.status ?? 'active'));
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(/** @type {unknown} */ (null));

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!org.trim()) errs.push({ field: 'organization_name', message: t('admin.services.err.org') });
    if (!name.trim()) errs.push({ field: 'name', message: t('admin.services.err.name') });
    if (!categories.length) errs.push({ field: 'categories', message: t('admin.services.err.categories') });
    setErrors(errs);
    if (errs.length) return;
    const fields = {
      organization_name: org.trim(),
      name: name.trim(),
      categories: /** @type {Need[]} */ (NEEDS.filter((n) => categories.includes(n))),
      phone: phone.trim(),
      email: email.trim(),
      address: address.trim(),
      eligibility: eligibility.trim(),
      languages: languagesOf(languages),
      status: /** @type {Schemas['ServiceStatus']} */ (status),
    };
    setBusy(true);
    try {
      if (!service) {
        saved(await api('post', '/v1/services', { body: fields }));
      } else {
        saved(await api('patch', '/v1/services/{id}', { params: { id: service.id }, body: fields, headers: { 'if-match': `"${service.version}"` } }));
      }
    } catch (e) {
      if (isStale(e)) setStale(/** @type {any} */ (e).problem.current ?? {});
      else setErrors(refusal(e, 'name'));
      setBusy(false);
    }
  }
  const labels = {
    organization_name: t('admin.services.org'), name: t('admin.services.name'), categories: t('admin.services.categories'),
    phone: t('admin.services.phone'), email: t('admin.services.email'), address: t('admin.services.address'),
    eligibility: t('admin.services.eligibility'), languages: t('admin.services.languages'), status: t('admin.services.statusLabel'),
  };
  const p = 'service';
  return html`${stale ? html`<${StaleNotice} what=${t('admin.services.what')} onReload=${() => reload(stale)} />` : ''}
    ${service?.hsds_id && html`<p class="notice">${t('admin.services.imported', { id: service.hsds_id })}</p>`}
    <form onSubmit=${submit} novalidate data-testid="service-form">
      <${ErrorSummary} errors=${errors} prefix=${p} labels=${labels} />
      <${Text} prefix=${p} field="organization_name" label=${labels.organization_name} value=${org} set=${setOrg} errors=${errors} autocomplete="off" />
      <${Text} prefix=${p} field="name" label=${labels.name} hint=${t('admin.services.nameHint')} value=${name} set=${setName} errors=${errors} autocomplete="off" />
      <${Choices} prefix=${p} field="categories" legend=${labels.categories} hint=${t('admin.services.categoriesHint')} multiple=${true} columns=${true}
        options=${NEEDS.map((n) => ({ value: n, label: t('need.' + n) }))} value=${categories} set=${setCategories} errors=${errors} />
      <div class="field-pair">
        <${Text} prefix=${p} field="phone" type="tel" label=${labels.phone} hint=${t('admin.services.blankNone')} value=${phone} set=${setPhone} errors=${errors} autocomplete="off" />
        <${Text} prefix=${p} field="email" type="email" label=${labels.email} hint=${t('admin.services.blankNone')} value=${email} set=${setEmail} errors=${errors} autocomplete="off" spellcheck=${false} />
      </div>
      <${Text} prefix=${p} field="address" label=${labels.address} hint=${t('admin.services.blankNone')} value=${address} set=${setAddress} errors=${errors} multi=${true} rows=${3} />
      <${Text} prefix=${p} field="eligibility" label=${labels.eligibility} hint=${t('admin.services.eligibilityHint')} value=${eligibility} set=${setEligibility} errors=${errors} multi=${true} rows=${3} />
      <${Text} prefix=${p} field="languages" label=${labels.languages} hint=${t('admin.services.languagesHint')} value=${languages} set=${setLanguages} errors=${errors} autocomplete="off" />
      <${Choices} prefix=${p} field="status" legend=${labels.status} value=${status} set=${setStatus} errors=${errors}
        options=${[
          { value: 'active', label: t('admin.services.status.active'), hint: t('admin.services.activeHint') },
          { value: 'inactive', label: t('admin.services.status.inactive'), hint: t('admin.services.inactiveHint') },
        ]} />
      <div class="actions">
        <button class="primary" type="submit" disabled=${busy || Boolean(stale)}>${busy ? t('admin.saving') : service ? t('admin.services.save') : t('admin.services.addSubmit')}</button>
        <a class="button secondary" href="#/admin-directory">${t('admin.cancel')}</a>
      </div>
    </form>`;
}
