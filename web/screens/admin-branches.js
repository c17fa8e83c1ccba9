// Branches: the list with a form to add one, and changing one (If-Match).
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { ErrorSummary, useFocusHeading } from './ui.js';
import { LoadNotice, OfflineNotice, Saved, StaleNotice, Text, allBranches, isStale, refusal, useLoad } from './admin-ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {Schemas['BranchOut']} Branch */

const labels = () => ({ code: t('admin.branches.code'), name: t('admin.branches.name') });

/**
 * The fields of a branch, checked before sending.
 * @param {string} code @param {string} name
 * @returns {FieldError[]}
 */
function check(code, name) {
  /** @type {FieldError[]} */
  const errs = [];
  if (!code.trim()) errs.push({ field: 'code', message: t('admin.branches.err.code') });
  if (!name.trim()) errs.push({ field: 'name', message: t('admin.branches.err.name') });
  return errs;
}

export function Branches() {
  const heading = useFocusHeading();
  const list = useLoad(allBranches, 'branches');
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState('');

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    const errs = check(code, name);
    setErrors(errs);
    if (errs.length) return;
    setBusy(true);
    try {
      const b = await api('post', '/v1/branches', { body: { code: code.trim(), name: name.trim() } });
      setSaved(t('admin.branches.added', { name: b.name, code: b.code }));
      setCode(''); setName('');
      list.replace([...(list.data ?? []), b].sort((x, y) => x.code.localeCompare(y.code)));
    } catch (e) {
      setErrors(refusal(e, 'code', { conflict: t('admin.branches.err.taken'), conflictField: 'code' }));
    } finally {
      setBusy(false);
    }
  }

  return html`<main id="main" class="admin">
    <h1 tabindex="-1" ref=${heading}>${t('admin.branches.title')}</h1>
    <p class="lead">${t('admin.branches.lead')}</p>
    <${OfflineNotice} />
    <div class="admin-columns">
      <section aria-labelledby="branches-list-title">
        <h2 id="branches-list-title">${t('admin.branches.listTitle')}</h2>
        ${!list.data ? html`<${LoadNotice} state=${list.state} retry=${list.retry} />` : html`<div class="table-wrap"><table class="data" data-testid="branches">
          <caption class="visually-hidden">${t('admin.branches.listTitle')}</caption>
          <thead><tr><th scope="col">${t('admin.branches.code')}</th><th scope="col">${t('admin.branches.name')}</th><th scope="col"><span class="visually-hidden">${t('admin.actions')}</span></th></tr></thead>
          <tbody>${list.data.map((b) => html`<tr key=${b.id}>
            <td><code>${b.code}</code></td>
            <th scope="row">${b.name}</th>
            <td><a class="row-link" href=${'#/admin-branches/' + b.id}>${t('admin.change')}<span class="visually-hidden"> ${b.name}</span></a></td>
          </tr>`)}</tbody>
        </table></div>`}
      </section>
      <section aria-labelledby="branch-add-title" class="panel">
        <h2 id="branch-add-title">${t('admin.branches.add')}</h2>
        <${Saved} message=${saved} />
        <form onSubmit=${submit} novalidate data-testid="new-branch">
          <${ErrorSummary} errors=${errors} prefix="branch" labels=${labels()} />
          <${Text} prefix="branch" field="code" label=${t('admin.branches.code')} hint=${t('admin.branches.codeHint')} value=${code} set=${setCode} errors=${errors}
            autocomplete="off" spellcheck=${false} width="10" />
          <${Text} prefix="branch" field="name" label=${t('admin.branches.name')} value=${name} set=${setName} errors=${errors} autocomplete="off" />
          <button class="primary" type="submit" disabled=${busy}>${busy ? t('admin.saving') : t('admin.branches.addSubmit')}</button>
        </form>
      </section>
    </div>
  </main>`;
}

/** @param {{id: string}} props */
export function BranchEdit({ id }) {
  const heading = useFocusHeading();
  const loaded = useLoad(() => api('get', '/v1/branches/{id}', { params: { id } }), 'branch-' + id);
  const [saved, setSaved] = useState('');
  const b = loaded.data;
  return html`<main id="main" class="admin form-screen">
    <p class="breadcrumb"><a href="#/admin-branches">${t('admin.branches.back')}</a></p>
    <h1 tabindex="-1" ref=${heading}>${b ? t('admin.branches.editTitle', { name: b.name }) : t('admin.branches.title')}</h1>
    <${OfflineNotice} />
    <${Saved} message=${saved} />
    ${!b ? html`<${LoadNotice} state=${loaded.state} retry=${loaded.retry} />`
      : html`<${BranchForm} key=${b.version} branch=${b} saved=${(/** @type {Branch} */ x) => { loaded.replace(x); setSaved(t('admin.branches.saved', { name: x.name })); }}
          reload=${(/** @type {any} */ current) => { setSaved(''); if (current?.version) loaded.replace(current); else loaded.retry(); }} />`}
  </main>`;
}

/** @param {{branch: Branch, saved: (b: Branch) => void, reload: (current: unknown) => void}} props */
function BranchForm({ branch, saved, reload }) {
  const [code, setCode] = useState(branch.code);
  const [name, setName] = useState(branch.name);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(/** @type {unknown} */ (null));

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    const errs = check(code, name);
    setErrors(errs);
    if (errs.length) return;
    /** @type {Schemas['BranchPatchIn']} */
    const body = {};
    if (code.trim().toUpperCase() !== branch.code) body.code = code.trim();
    if (name.trim() !== branch.name) body.name = name.trim();
    if (!Object.keys(body).length) return setErrors([{ field: 'name', message: t('admin.nothingChanged') }]);
    setBusy(true);
    try {
      saved(await api('patch', '/v1/branches/{id}', { params: { id: branch.id }, body, headers: { 'if-match': `"${branch.version}"` } }));
    } catch (e) {
      if (isStale(e)) setStale(/** @type {any} */ (e).problem.current ?? {});
      else setErrors(refusal(e, 'name', { conflict: t('admin.branches.err.taken'), conflictField: 'code' }));
      setBusy(false);
    }
  }
  return html`${stale ? html`<${StaleNotice} what=${t('admin.branches.what')} onReload=${() => reload(stale)} />` : ''}
    <form onSubmit=${submit} novalidate data-testid="edit-branch">
      <${ErrorSummary} errors=${errors} prefix="branch" labels=${labels()} />
      <${Text} prefix="branch" field="code" label=${t('admin.branches.code')} hint=${t('admin.branches.codeHint')} value=${code} set=${setCode} errors=${errors}
        autocomplete="off" spellcheck=${false} width="10" />
      <${Text} prefix="branch" field="name" label=${t('admin.branches.name')} value=${name} set=${setName} errors=${errors} autocomplete="off" />
      <div class="actions">
        <button class="primary" type="submit" disabled=${busy || Boolean(stale)}>${busy ? t('admin.saving') : t('admin.branches.save')}</button>
        <a class="button secondary" href="#/admin-branches">${t('admin.cancel')}</a>
      </div>
    </form>`;
}
