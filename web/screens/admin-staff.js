// Staff accounts: the list (a page at a time), creating one with a one-time
// password, role and branches, and one account: its details, a new one-time
// password, its devices (ending a session), deactivation and its training.
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { session } from '../lib/session.js';
import { ErrorSummary, useFocusHeading } from './ui.js';
import {
  Check, Choices, LoadNotice, MIN_PASSWORD, OfflineNotice, OneTimePassword, PasswordField, ROLES, Saved, ShowMore,
  StaleNotice, Text, allBranches, dateTime, isStale, refusal, showDay, today, useLoad, usePaged,
} from './admin-ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {Schemas['StaffOut']} Staff */
/** @typedef {Schemas['BranchOut']} Branch */
/** @typedef {Schemas['Role']} Role */

const PAGE = 50;
/** Roles whose work is at branches: they need at least one. */
const AT_BRANCHES = ['peer', 'social_worker', 'supervisor', 'staff'];

/** @param {string[]} ids @param {Branch[] | undefined} branches */
function branchNames(ids, branches) {
  if (!ids.length) return t('admin.staff.noBranches');
  if (!branches) return ids.length === 1 ? t('admin.staff.branchCountOne') : t('admin.staff.branchCount', { n: ids.length });
  return ids.map((id) => branches.find((b) => b.id === id)?.name ?? t('admin.staff.unknownBranch')).join(', ');
}

const roleOptions = () => ROLES.map((r) => ({ value: r, label: t('admin.role.' + r), hint: t('admin.roleHelp.' + r) }));
/** @param {Branch[]} branches */
const branchOptions = (branches) => branches.map((b) => ({ value: b.id, label: `${b.name} (${b.code})` }));

/** @param {{active: boolean}} props */
function ActiveBadge({ active }) {
  return html`<span class=${'badge ' + (active ? 'badge-active' : 'badge-inactive')}>${active ? t('admin.staff.active') : t('admin.staff.inactive')}</span>`;
}

export function StaffList() {
  const heading = useFocusHeading();
  const branches = useLoad(allBranches, 'branches');
  const paged = usePaged((cursor) => api('get', '/v1/staff', { query: cursor ? { limit: PAGE, cursor } : { limit: PAGE } }), 'staff');
  return html`<main id="main" class="admin">
    <div class="page-head">
      <h1 tabindex="-1" ref=${heading}>${t('admin.staff.title')}</h1>
      <a class="button primary" href="#/admin/staff/new">${t('admin.staff.create')}</a>
    </div>
    <p class="lead">${t('admin.staff.lead')}</p>
    <${OfflineNotice} />
    ${paged.state !== 'ready' && html`<${LoadNotice} state=${paged.state} retry=${paged.retry} />`}
    ${paged.state === 'ready' && html`<ul class="list card-grid" aria-label=${t('admin.staff.listLabel')}>
      ${paged.items.map((s) => html`<li class=${'item account' + (s.active ? '' : ' inactive')} key=${s.id} data-testid="account">
        <div class="item-head">
          <a class="item-title" href=${'#/admin/staff/' + s.id}>${s.display_name}</a>
          <${ActiveBadge} active=${s.active} />
        </div>
        <dl class="facts">
          <div><dt>${t('admin.staff.username')}</dt><dd>${s.username}</dd></div>
          <div><dt>${t('admin.staff.role')}</dt><dd>${t('admin.role.' + s.role)}</dd></div>
          <div><dt>${t('admin.staff.branches')}</dt><dd>${branchNames(s.branches, branches.data)}</dd></div>
        </dl>
      </li>`)}
    </ul>
    <${ShowMore} paged=${paged} label=${t('admin.staff.more')} />`}
  </main>`;
}

/** The labels of the account form's fields, for the error summary. */
const staffLabels = () => ({
  display_name: t('admin.staff.name'),
  username: t('admin.staff.username'),
  role: t('admin.staff.role'),
  branches: t('admin.staff.branches'),
  password: t('admin.password.label'),
  active: t('admin.staff.activation'),
  sso_subject: t('admin.sso.subject'),
  sso_email: t('admin.sso.email'),
  password_sign_in: t('admin.sso.password'),
});

export function NewStaff() {
  const heading = useFocusHeading();
  const branches = useLoad(allBranches, 'branches');
  const [name, setName] = useState('');
  const [username, setUsername] = useState('');
  const [role, setRole] = useState('');
  const [chosen, setChosen] = useState(/** @type {string[]} */ ([]));
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState(/** @type {{account: Staff, password: string} | null} */ (null));

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!name.trim()) errs.push({ field: 'display_name', message: t('admin.staff.err.name') });
    if (!username.trim()) errs.push({ field: 'username', message: t('admin.staff.err.username') });
    if (!role) errs.push({ field: 'role', message: t('admin.staff.err.role') });
    else if (AT_BRANCHES.includes(role) && !chosen.length) errs.push({ field: 'branches', message: t('admin.staff.err.branches', { role: t('admin.role.' + role) }) });
    if ([...password].length < MIN_PASSWORD) errs.push({ field: 'password', message: t('admin.password.err.short', { n: MIN_PASSWORD }) });
    setErrors(errs);
    if (errs.length) return;
    setBusy(true);
    try {
      const account = await api('post', '/v1/staff', {
        body: { display_name: name.trim(), username: username.trim(), role: /** @type {Role} */ (role), branches: chosen, password },
      });
      setCreated({ account, password });
      setName(''); setUsername(''); setRole(''); setChosen([]); setPassword('');
    } catch (e) {
      setErrors(refusal(e, 'username', { conflict: t('admin.staff.err.taken'), conflictField: 'username' }));
    } finally {
      setBusy(false);
    }
  }

  return html`<main id="main" class="admin form-screen">
    <p class="breadcrumb"><a href="#/admin">${t('admin.staff.back')}</a></p>
    <h1 tabindex="-1" ref=${heading}>${t('admin.staff.createTitle')}</h1>
    <${OfflineNotice} />
    ${created
      ? html`<${OneTimePassword} password=${created.password} name=${created.account.display_name} title=${t('admin.staff.created', { name: created.account.display_name, username: created.account.username })} />
        <div class="actions">
          <a class="button primary" href=${'#/admin/staff/' + created.account.id}>${t('admin.staff.openCreated', { name: created.account.display_name })}</a>
          <button type="button" class="secondary" onClick=${() => { setCreated(null); setErrors([]); }}>${t('admin.staff.another')}</button>
        </div>`
      : html`<p class="lead">${t('admin.staff.createLead')}</p>
      <form onSubmit=${submit} novalidate data-testid="new-staff">
        <${ErrorSummary} errors=${errors} prefix="staff" labels=${staffLabels()} />
        <${Text} prefix="staff" field="display_name" label=${t('admin.staff.name')} hint=${t('admin.staff.nameHint')} value=${name} set=${setName} errors=${errors} autocomplete="off" />
        <${Text} prefix="staff" field="username" label=${t('admin.staff.username')} hint=${t('admin.staff.usernameHint')} value=${username} set=${setUsername} errors=${errors}
          autocomplete="off" spellcheck=${false} width="20" />
        <${Choices} prefix="staff" field="role" legend=${t('admin.staff.role')} hint=${t('admin.staff.roleHint')} options=${roleOptions()} value=${role} set=${setRole} errors=${errors} />
        ${branches.data
          ? html`<${Choices} prefix="staff" field="branches" legend=${t('admin.staff.branches')} hint=${t('admin.staff.branchesHint')} options=${branchOptions(branches.data)}
              multiple=${true} value=${chosen} set=${setChosen} errors=${errors} columns=${true} />`
          : html`<${LoadNotice} state=${branches.state} retry=${branches.retry} />`}
        <${PasswordField} prefix="staff" value=${password} set=${setPassword} errors=${errors} label=${t('admin.password.label')} hint=${t('admin.password.hint', { n: MIN_PASSWORD })} />
        <div class="actions">
          <button class="primary" type="submit" disabled=${busy}>${busy ? t('admin.saving') : t('admin.staff.createSubmit')}</button>
          <a class="button secondary" href="#/admin">${t('admin.cancel')}</a>
        </div>
      </form>`}
  </main>`;
}

/** @param {{id: string}} props */
export function StaffAccount({ id }) {
  const heading = useFocusHeading();
  const loaded = useLoad(async () => {
    const [account, branches] = await Promise.all([api('get', '/v1/staff/{id}', { params: { id } }), allBranches()]);
    return { account, branches };
  }, 'staff-' + id);
  const [saved, setSaved] = useState('');
  const data = loaded.data;
  const self = session.other?.id === id;
  /** @param {Staff} account @param {string} message */
  const changed = (account, message) => {
    if (data) loaded.replace({ ...data, account });
    setSaved(message);
  };
  /** @param {unknown} current the record as the server has it now (a 412's `current`) */
  const reload = (current) => {
    if (data && current && typeof current === 'object' && 'version' in current) loaded.replace({ ...data, account: /** @type {Staff} */ (current) });
    else loaded.retry();
    setSaved('');
  };
  const a = data?.account;
  return html`<main id="main" class="admin">
    <p class="breadcrumb"><a href="#/admin">${t('admin.staff.back')}</a></p>
    <h1 tabindex="-1" ref=${heading}>${a ? a.display_name : t('admin.staff.accountTitle')}</h1>
    <${OfflineNotice} />
    ${!data ? html`<${LoadNotice} state=${loaded.state} retry=${loaded.retry} />` : html`
    <p class="account-line" data-testid="account-line">
      <span>${t('admin.staff.signsInAs', { username: data.account.username })}</span>
      <span>${t('admin.role.' + data.account.role)}</span>
      <${ActiveBadge} active=${data.account.active} />
    </p>
    <${Saved} message=${saved} testid="account-saved" />
    <div class="admin-columns">
      <div>
        <${AccountDetails} key=${'d' + data.account.version} account=${data.account} branches=${data.branches} self=${self} changed=${changed} reload=${reload} />
        ${!self && data.account.active && html`<${NewPassword} account=${data.account} changed=${changed} reload=${reload} />`}
        <${SingleSignOn} key=${'o' + data.account.version} account=${data.account} changed=${changed} reload=${reload} />
      </div>
      <div>
        <${Sessions} key=${'s' + data.account.version} account=${data.account} />
        <${Activation} key=${'a' + data.account.version} account=${data.account} self=${self} changed=${changed} reload=${reload} />
      </div>
    </div>
    <${Certifications} account=${data.account} />`}
  </main>`;
}

/**
 * @typedef {{account: Staff, changed: (a: Staff, message: string) => void, reload: (current: unknown) => void}} EditProps
 */

/** @param {EditProps & {branches: Branch[], self: boolean}} props */
function AccountDetails({ account, branches, self, changed, reload }) {
  const [name, setName] = useState(account.display_name);
  const [role, setRole] = useState(/** @type {string} */ (account.role));
  const [chosen, setChosen] = useState(account.branches);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(/** @type {unknown} */ (null));

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!name.trim()) errs.push({ field: 'display_name', message: t('admin.staff.err.name') });
    if (AT_BRANCHES.includes(role) && !chosen.length) errs.push({ field: 'branches', message: t('admin.staff.err.branches', { role: t('admin.role.' + role) }) });
    setErrors(errs);
    if (errs.length) return;
    /** @type {Schemas['StaffPatchIn']} */
    const body = {};
    if (name.trim() !== account.display_name) body.display_name = name.trim();
    if (role !== account.role) body.role = /** @type {Role} */ (role);
    const same = chosen.length === account.branches.length && chosen.every((b) => account.branches.includes(b));
    if (!same) body.branches = chosen;
    if (!Object.keys(body).length) return setErrors([{ field: 'display_name', message: t('admin.nothingChanged') }]);
    setBusy(true);
    try {
      const a = await api('patch', '/v1/staff/{id}', { params: { id: account.id }, body, headers: { 'if-match': `"${account.version}"` } });
      changed(a, body.role ? t('admin.staff.savedRole', { name: a.display_name }) : t('admin.staff.saved', { name: a.display_name }));
    } catch (e) {
      if (isStale(e)) setStale(/** @type {any} */ (e).problem.current ?? {});
      else setErrors(refusal(e, 'display_name'));
      setBusy(false);
    }
  }

  return html`<section class="panel" aria-labelledby="details-title">
    <h2 id="details-title">${t('admin.staff.details')}</h2>
    ${stale ? html`<${StaleNotice} what=${t('admin.staff.what')} why=${t('admin.staff.staleWhy')} onReload=${() => reload(stale)} />` : ''}
    <form onSubmit=${submit} novalidate data-testid="account-details">
      <${ErrorSummary} errors=${errors} prefix="account" labels=${staffLabels()} />
      <${Text} prefix="account" field="display_name" label=${t('admin.staff.name')} value=${name} set=${setName} errors=${errors} autocomplete="off" />
      ${self && html`<p class="notice">${t('admin.staff.selfRole')}</p>`}
      <${Choices} prefix="account" field="role" legend=${t('admin.staff.role')} hint=${self ? undefined : t('admin.staff.roleChangeHint')} options=${roleOptions()}
        value=${role} set=${setRole} errors=${errors} disabled=${self} />
      <${Choices} prefix="account" field="branches" legend=${t('admin.staff.branches')} hint=${self ? undefined : t('admin.staff.branchChangeHint')} options=${branchOptions(branches)}
        multiple=${true} value=${chosen} set=${setChosen} errors=${errors} disabled=${self} columns=${true} />
      <button class="primary" type="submit" disabled=${busy || Boolean(stale)}>${busy ? t('admin.saving') : t('admin.staff.saveDetails')}</button>
    </form>
  </section>`;
}

/** @param {EditProps} props */
function NewPassword({ account, changed, reload }) {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(/** @type {unknown} */ (null));
  const [shown, setShown] = useState('');
  // A reload after a 412 brings the account's new version: the form is usable again.
  useEffect(() => setStale(null), [account.version]);

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    if ([...password].length < MIN_PASSWORD) return setErrors([{ field: 'password', message: t('admin.password.err.short', { n: MIN_PASSWORD }) }]);
    setErrors([]);
    setBusy(true);
    try {
      const a = await api('patch', '/v1/staff/{id}', { params: { id: account.id }, body: { password }, headers: { 'if-match': `"${account.version}"` } });
      // Shown here, once (this panel stays as it is while the account's new version comes in).
      setShown(password);
      setPassword('');
      changed(a, '');
    } catch (e) {
      if (isStale(e)) setStale(/** @type {any} */ (e).problem.current ?? {});
      else setErrors(refusal(e, 'password'));
    } finally {
      setBusy(false);
    }
  }
  function done() {
    setShown('');
    setOpen(false);
    setTimeout(() => document.getElementById('reset-open')?.focus(), 0);
  }

  return html`<section class="panel" aria-labelledby="password-title">
    <h2 id="password-title">${t('admin.password.resetTitle')}</h2>
    ${shown
      ? html`<${OneTimePassword} password=${shown} name=${account.display_name} title=${t('admin.password.resetDone', { name: account.display_name })} />
        <button type="button" class="secondary" onClick=${done}>${t('admin.password.given')}</button>`
      : html`<p>${t('admin.password.resetLead')}</p>
      ${stale ? html`<${StaleNotice} what=${t('admin.staff.what')} why=${t('admin.staff.staleWhy')} onReload=${() => reload(stale)} />` : ''}
      ${!open
        ? html`<button type="button" class="secondary" id="reset-open" onClick=${() => { setOpen(true); setTimeout(() => document.getElementById('reset-password')?.focus(), 0); }}>${t('admin.password.resetOpen')}</button>`
        : html`<form onSubmit=${submit} novalidate>
          <${ErrorSummary} errors=${errors} prefix="reset" labels=${staffLabels()} />
          <${PasswordField} prefix="reset" value=${password} set=${setPassword} errors=${errors} label=${t('admin.password.label')} hint=${t('admin.password.hint', { n: MIN_PASSWORD })} />
          <div class="actions">
            <button class="primary" type="submit" disabled=${busy || Boolean(stale)}>${busy ? t('admin.saving') : t('admin.password.resetSubmit')}</button>
            <button class="secondary" type="button" onClick=${() => { setOpen(false); setPassword(''); setErrors([]); }}>${t('admin.cancel')}</button>
          </div>
        </form>`}`}
  </section>`;
}

/**
 * Single sign-on: the provider's subject the account is linked to, or a
 * verified email that links it at its first single sign-on, and whether its
 * password still signs in.
 * @param {EditProps} props
 */
function SingleSignOn({ account, changed, reload }) {
  const [subject, setSubject] = useState(account.sso_subject ?? '');
  const [email, setEmail] = useState(account.sso_email ?? '');
  const [password, setPassword] = useState(account.password_sign_in);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(/** @type {unknown} */ (null));

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {Schemas['StaffPatchIn']} */
    const body = {};
    if (subject.trim() !== (account.sso_subject ?? '')) body.sso_subject = subject.trim();
    if (email.trim() !== (account.sso_email ?? '')) body.sso_email = email.trim();
    if (password !== account.password_sign_in) body.password_sign_in = password;
    if (!Object.keys(body).length) return setErrors([{ field: 'sso_subject', message: t('admin.nothingChanged') }]);
    setBusy(true);
    try {
      const a = await api('patch', '/v1/staff/{id}', { params: { id: account.id }, body, headers: { 'if-match': `"${account.version}"` } });
      changed(a, t('admin.sso.saved', { name: a.display_name }));
    } catch (e) {
      if (isStale(e)) setStale(/** @type {any} */ (e).problem.current ?? {});
      else setErrors(refusal(e, 'sso_subject'));
      setBusy(false);
    }
  }

  return html`<section class="panel" aria-labelledby="sso-title">
    <h2 id="sso-title">${t('admin.sso.title')}</h2>
    ${stale ? html`<${StaleNotice} what=${t('admin.staff.what')} why=${t('admin.staff.staleWhy')} onReload=${() => reload(stale)} />` : ''}
    <form onSubmit=${submit} novalidate data-testid="account-sso">
      <${ErrorSummary} errors=${errors} prefix="sso" labels=${staffLabels()} />
      <${Text} prefix="sso" field="sso_subject" label=${t('admin.sso.subject')} hint=${t('admin.sso.subjectHint')} value=${subject} set=${setSubject} errors=${errors} autocomplete="off" spellcheck=${false} />
      <${Text} prefix="sso" field="sso_email" label=${t('admin.sso.email')} hint=${t('admin.sso.emailHint')} value=${email} set=${setEmail} errors=${errors} type="email" autocomplete="off" spellcheck=${false} />
      <${Check} prefix="sso" field="password_sign_in" label=${t('admin.sso.password')} hint=${t('admin.sso.passwordHint')} checked=${password} set=${setPassword} errors=${errors} />
      <button class="primary" type="submit" disabled=${busy || Boolean(stale)}>${busy ? t('admin.saving') : t('admin.sso.save')}</button>
    </form>
  </section>`;
}

/** @param {{account: Staff}} props */
function Sessions({ account }) {
  const [round, setRound] = useState(0);
  const list = useLoad(() => api('get', '/v1/staff/{id}/sessions', { params: { id: account.id } }).then((r) => r.items), `sessions-${account.id}-${round}`);
  const [ended, setEnded] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState('');

  /** @param {Schemas['SessionOut']} s */
  async function end(s) {
    setBusy(s.id);
    setErrors([]);
    try {
      await api('delete', '/v1/staff/{id}/sessions/{session_id}', { params: { id: account.id, session_id: s.id } });
      setEnded(t('admin.sessions.ended', { device: s.device_name }));
      setRound((n) => n + 1);
    } catch (e) {
      setErrors(refusal(e, 'sessions').map((x) => ({ ...x, field: 'sessions' })));
    } finally {
      setBusy('');
    }
  }
  const items = list.data ?? [];
  return html`<section class="panel" aria-labelledby="sessions-title" data-testid="sessions">
    <h2 id="sessions-title">${t('admin.sessions.title')}</h2>
    <p>${t('admin.sessions.lead')}</p>
    <${Saved} message=${ended} testid="sessions-saved" />
    ${errors.length > 0 && html`<p class="field-error" role="alert" id="sessions-error">${errors[0].message}</p>`}
    ${!list.data ? html`<${LoadNotice} state=${list.state} retry=${list.retry} />`
      : items.length === 0 ? html`<p class="muted" data-testid="no-sessions">${account.active ? t('admin.sessions.none') : t('admin.sessions.noneInactive')}</p>`
      : html`<ul class="list">${items.map((s) => html`<li class="item session" key=${s.id} data-testid="session">
          <div class="item-head"><strong class="device">${s.device_name}</strong>${s.current && html`<span class="badge badge-active">${t('admin.sessions.thisDevice')}</span>`}</div>
          <dl class="facts">
            <div><dt>${t('admin.sessions.since')}</dt><dd>${dateTime(s.created_at)}</dd></div>
            <div><dt>${t('admin.sessions.lastUsed')}</dt><dd>${dateTime(s.last_used_at)}</dd></div>
            <div><dt>${t('admin.sessions.expires')}</dt><dd>${dateTime(s.expires_at)}</dd></div>
          </dl>
          ${!s.current && html`<button type="button" class="danger small" disabled=${busy === s.id} onClick=${() => end(s)}>
            ${t('admin.sessions.end')}<span class="visually-hidden"> ${t('admin.sessions.endOn', { device: s.device_name })}</span></button>`}
        </li>`)}</ul>`}
    <button type="button" class="secondary small" onClick=${() => { setEnded(''); setRound((n) => n + 1); }}>${t('admin.sessions.check')}</button>
  </section>`;
}

/** @param {EditProps & {self: boolean}} props */
function Activation({ account, self, changed, reload }) {
  const [asking, setAsking] = useState(false);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(/** @type {unknown} */ (null));

  /** @param {boolean} active */
  async function set(active) {
    setBusy(true);
    setErrors([]);
    try {
      const a = await api('patch', '/v1/staff/{id}', { params: { id: account.id }, body: { active }, headers: { 'if-match': `"${account.version}"` } });
      changed(a, active ? t('admin.staff.reactivated', { name: a.display_name }) : t('admin.staff.deactivated', { name: a.display_name }));
    } catch (e) {
      if (isStale(e)) setStale(/** @type {any} */ (e).problem.current ?? {});
      else setErrors(refusal(e, 'active'));
      setBusy(false);
    }
  }
  const message = errors[0]?.message;
  return html`<section class="panel activation" aria-labelledby="activation-title">
    <h2 id="activation-title">${account.active ? t('admin.staff.deactivateTitle') : t('admin.staff.reactivateTitle')}</h2>
    ${stale ? html`<${StaleNotice} what=${t('admin.staff.what')} why=${t('admin.staff.staleWhy')} onReload=${() => reload(stale)} />` : ''}
    ${message && html`<p class="field-error" role="alert" id="activation-error">${message}</p>`}
    ${self ? html`<p>${t('admin.staff.selfDeactivate')}</p>`
      : account.active
        ? asking
          ? html`<div class="confirm" role="group" aria-labelledby="deactivate-q">
              <p id="deactivate-q"><strong>${t('admin.staff.deactivateQ', { name: account.display_name })}</strong></p>
              <p>${t('admin.staff.deactivateWhat')}</p>
              <div class="actions">
                <button type="button" class="danger" id="account-active" disabled=${busy || Boolean(stale)} onClick=${() => set(false)}>${t('admin.staff.deactivateYes')}</button>
                <button type="button" class="secondary" onClick=${() => setAsking(false)}>${t('admin.cancel')}</button>
              </div>
            </div>`
          : html`<p>${t('admin.staff.deactivateLead')}</p>
            <button type="button" class="danger" onClick=${() => setAsking(true)}>${t('admin.staff.deactivate')}</button>`
        : html`<p>${t('admin.staff.inactiveLead')}</p>
          <button type="button" class="secondary" id="account-active" disabled=${busy || Boolean(stale)} onClick=${() => set(true)}>${t('admin.staff.reactivate')}</button>`}
  </section>`;
}

/** @param {{account: Staff}} props */
function Certifications({ account }) {
  const [round, setRound] = useState(0);
  const loaded = useLoad(async () => {
    const [held, trainings] = await Promise.all([
      api('get', '/v1/staff/{id}/certifications', { params: { id: account.id } }),
      api('get', '/v1/trainings'),
    ]);
    return { held: held.items, trainings: trainings.items };
  }, `certs-${account.id}-${round}`);
  const [training, setTraining] = useState('');
  const [completed, setCompleted] = useState(today());
  const [trainer, setTrainer] = useState(false);
  const [evidence, setEvidence] = useState('');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState('');

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!training) errs.push({ field: 'training_id', message: t('admin.certs.err.training') });
    if (!completed) errs.push({ field: 'completed_on', message: t('admin.certs.err.date') });
    else if (completed > today()) errs.push({ field: 'completed_on', message: t('admin.certs.err.future') });
    setErrors(errs);
    if (errs.length) return;
    setBusy(true);
    try {
      /** @type {Schemas['NewCertificationIn']} */
      const body = { training_id: training, completed_on: completed, trainer };
      if (evidence.trim()) body.evidence = evidence.trim();
      const c = await api('post', '/v1/staff/{id}/certifications', { params: { id: account.id }, body });
      setSaved(t('admin.certs.saved', { training: c.training_name }));
      setTraining(''); setCompleted(today()); setTrainer(false); setEvidence('');
      setRound((n) => n + 1);
    } catch (e) {
      setErrors(refusal(e, 'training_id'));
    } finally {
      setBusy(false);
    }
  }
  const labels = { training_id: t('admin.certs.training'), completed_on: t('admin.certs.completed'), trainer: t('admin.certs.trainer'), evidence: t('admin.certs.evidence') };
  const data = loaded.data;
  return html`<section class="panel certifications" aria-labelledby="certs-title">
    <h2 id="certs-title">${t('admin.certs.title')}</h2>
    ${!data ? html`<${LoadNotice} state=${loaded.state} retry=${loaded.retry} />` : html`
    ${data.held.length === 0 ? html`<p class="muted">${t('admin.certs.none')}</p>` : html`<div class="table-wrap"><table class="data stack" data-testid="certifications">
      <caption class="visually-hidden">${t('admin.certs.caption', { name: account.display_name })}</caption>
      <thead><tr>
        <th scope="col">${t('admin.certs.training')}</th>
        <th scope="col">${t('admin.certs.completed')}</th>
        <th scope="col">${t('admin.certs.expires')}</th>
        <th scope="col">${t('admin.certs.state')}</th>
      </tr></thead>
      <tbody>${data.held.map((c) => html`<tr key=${c.id}>
        <th scope="row">${c.training_name}${c.trainer ? html` <span class="badge badge-active">${t('admin.certs.isTrainer')}</span>` : ''}</th>
        <td data-label=${t('admin.certs.completed')}>${showDay(c.completed_on)}</td>
        <td data-label=${t('admin.certs.expires')}>${c.expires_on ? showDay(c.expires_on) : t('admin.certs.noExpiry')}</td>
        <td data-label=${t('admin.certs.state')}>${c.current ? t('admin.certs.current') : t('admin.certs.notCurrent')}</td>
      </tr>`)}</tbody>
    </table></div>`}
    <${Saved} message=${saved} testid="certs-saved" />
    <form onSubmit=${submit} novalidate class="sub-form" data-testid="new-certification">
      <h3>${t('admin.certs.add')}</h3>
      <${ErrorSummary} errors=${errors} prefix="cert" labels=${labels} />
      <div class=${'field' + (errors.some((e) => e.field === 'training_id') ? ' has-error' : '')}>
        <label for="cert-training_id">${t('admin.certs.training')}</label>
        ${errors.filter((e) => e.field === 'training_id').map((e) => html`<p class="field-error" id="cert-training_id-error"><span class="visually-hidden">${t('errors.prefix')} </span>${e.message}</p>`)}
        <select id="cert-training_id" value=${training} onChange=${(/** @type {any} */ e) => setTraining(e.currentTarget.value)}
          aria-describedby=${errors.some((e) => e.field === 'training_id') ? 'cert-training_id-error' : undefined}>
          <option value="">${t('admin.certs.choose')}</option>
          ${data.trainings.map((tr) => html`<option value=${tr.id}>${tr.name}</option>`)}
        </select>
      </div>
      <${Text} prefix="cert" field="completed_on" type="date" label=${t('admin.certs.completed')} hint=${t('admin.certs.completedHint')} value=${completed} set=${setCompleted} errors=${errors} width="10" />
      <${Check} prefix="cert" field="trainer" label=${t('admin.certs.trainer')} hint=${t('admin.certs.trainerHint')} checked=${trainer} set=${setTrainer} errors=${errors} />
      <${Text} prefix="cert" field="evidence" label=${t('admin.certs.evidence')} hint=${t('admin.certs.evidenceHint')} value=${evidence} set=${setEvidence} errors=${errors} />
      <button class="primary" type="submit" disabled=${busy}>${busy ? t('admin.saving') : t('admin.certs.submit')}</button>
    </form>`}
  </section>`;
}
