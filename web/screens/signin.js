// Sign in (online) and unlock (the copy kept on this device, with or without the network).
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { config } from '../lib/config.js';
import { api } from '../lib/api.js';
import { ApiError, chooseOwnPassword, deviceName, otherAccount, session, signIn, signInWithProvider, signOut, start, unlock, usePassphrase } from '../lib/session.js';
import { ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';

/** @typedef {import('./ui.js').FieldError} FieldError */

export function SignIn() {
  const remembered = deviceName();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [device, setDevice] = useState(remembered);
  const [askDevice, setAskDevice] = useState(!remembered);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const heading = useFocusHeading();
  const notice = session.notice;
  /** @type {[string | null, (v: string | null) => void]} */
  const [provider, setProvider] = useState(/** @type {string | null} */ (null));
  useEffect(() => {
    // Offered when the server has a provider (and the network is there).
    api('get', '/v1/auth/sso', { auth: false })
      .then((s) => setProvider(s.enabled ? s.provider_name ?? '' : null))
      .catch(() => setProvider(null));
  }, []);

  function withProvider() {
    if (!device.trim()) {
      setAskDevice(true);
      return setErrors([{ field: 'device_name', message: t('signin.required', { field: t('field.device_name') }) }]);
    }
    signInWithProvider(device.trim());
  }

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!username.trim()) errs.push({ field: 'username', message: t('signin.required', { field: t('field.username') }) });
    if (!password) errs.push({ field: 'password', message: t('signin.required', { field: t('field.password') }) });
    if (!device.trim()) errs.push({ field: 'device_name', message: t('signin.required', { field: t('field.device_name') }) });
    if (errs.length) return setErrors(errs);
    setBusy(true);
    try {
      await signIn(username.trim(), password, device.trim());
    } catch (e) {
      if (e instanceof ApiError) {
        if (e.offline) setErrors([{ field: 'username', message: t('signin.offline') }]);
        else if (e.status === 429) setErrors([{ field: 'password', message: t('signin.throttled') }]);
        else if (e.problem.errors.length) setErrors(e.problem.errors);
        else setErrors([{ field: 'password', message: e.status === 401 ? t('signin.failed') : t('errors.server') }]);
      } else setErrors([{ field: 'username', message: t('errors.server') }]);
      setBusy(false);
    }
  }

  return html`<main id="main" class="narrow">
    <h1 tabindex="-1" ref=${heading}>${t('signin.title')}</h1>
    ${notice && html`<div class="notice" role="status"><p>${t(notice.key, { hours: config.wipeAfterHours })}</p>${notice.detail && html`<p>${notice.detail}</p>`}${notice.discarded ? html`<p data-testid="discarded">${notice.discarded === 1 ? t('notice.discardedOne') : t('notice.discarded', { n: notice.discarded })}</p>` : null}</div>`}
    <${ErrorSummary} errors=${errors} prefix="signin" />
    ${provider !== null && html`<div class="sso">
      <button class="primary" type="button" onClick=${withProvider}>${t('sso.button', { provider })}</button>
      <p class="hint">${t('sso.or')}</p>
    </div>`}
    <form onSubmit=${submit} novalidate>
      <div class=${'field' + (errorFor(errors, 'username') ? ' has-error' : '')}>
        <label for="signin-username">${t('signin.username')}</label>
        <${FieldMessage} id="signin-username" message=${errorFor(errors, 'username')} />
        <input id="signin-username" name="username" autocomplete="username" autocapitalize="none" spellcheck=${false}
          value=${username} onInput=${(/** @type {any} */ e) => setUsername(e.currentTarget.value)}
          aria-describedby=${errorFor(errors, 'username') ? 'signin-username-error' : undefined} />
      </div>
      <div class=${'field' + (errorFor(errors, 'password') ? ' has-error' : '')}>
        <label for="signin-password">${t('signin.password')}</label>
        <${FieldMessage} id="signin-password" message=${errorFor(errors, 'password')} />
        <input id="signin-password" name="password" type="password" autocomplete="current-password"
          value=${password} onInput=${(/** @type {any} */ e) => setPassword(e.currentTarget.value)}
          aria-describedby=${errorFor(errors, 'password') ? 'signin-password-error' : undefined} />
      </div>
      ${askDevice
        ? html`<div class=${'field' + (errorFor(errors, 'device_name') ? ' has-error' : '')}>
            <label for="signin-device_name">${t('signin.device')}</label>
            <p class="hint" id="signin-device-hint">${t('signin.deviceHint')}</p>
            <${FieldMessage} id="signin-device_name" message=${errorFor(errors, 'device_name')} />
            <input id="signin-device_name" name="device_name" value=${device} aria-describedby="signin-device-hint"
              onInput=${(/** @type {any} */ e) => setDevice(e.currentTarget.value)} />
          </div>`
        : html`<p class="device-line">${t('signin.deviceIs', { name: device })}
            <button type="button" class="link" onClick=${() => setAskDevice(true)}>${t('signin.changeDevice')}</button></p>`}
      <button class="primary" type="submit" disabled=${busy}>${busy ? t('signin.busy') : t('signin.submit')}</button>
    </form>
    ${session.copies.length > 0 && html`<p><button type="button" class="link" onClick=${() => start()}>${t('signin.unlockInstead')}</button></p>`}
  </main>`;
}

export function Unlock() {
  const copies = session.copies;
  const [staffId, setStaffId] = useState(copies[0]?.staff_id ?? '');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const heading = useFocusHeading();
  const chosen = copies.find((c) => c.staff_id === staffId) ?? copies[0];
  // A copy made after a single sign-on opens with the device passphrase.
  const secret = chosen?.passphrase ? t('passphrase.label') : t('signin.password');

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    if (!password) return setErrors([{ field: 'password', message: t('signin.required', { field: chosen?.passphrase ? t('passphrase.field') : t('field.password') }) }]);
    setBusy(true);
    const ok = await unlock(chosen.staff_id, password).catch(() => false);
    if (!ok) {
      setErrors([{ field: 'password', message: t(chosen?.passphrase ? 'passphrase.wrong' : 'unlock.wrong') }]);
      setBusy(false);
    }
  }

  return html`<main id="main" class="narrow">
    <h1 tabindex="-1" ref=${heading}>${t('unlock.title')}</h1>
    <p>${t(chosen?.passphrase ? 'unlock.leadPassphrase' : 'unlock.lead', { username: chosen?.username ?? '' })}</p>
    <${ErrorSummary} errors=${errors} prefix="unlock" />
    <form onSubmit=${submit} novalidate>
      ${copies.length > 1 && html`<div class="field">
        <label for="unlock-account">${t('unlock.account')}</label>
        <select id="unlock-account" value=${staffId} onChange=${(/** @type {any} */ e) => setStaffId(e.currentTarget.value)}>
          ${copies.map((c) => html`<option value=${c.staff_id}>${c.username}</option>`)}
        </select>
      </div>`}
      <input type="text" name="username" autocomplete="username" value=${chosen?.username ?? ''} class="visually-hidden" tabindex="-1" aria-hidden="true" readonly />
      <div class=${'field' + (errorFor(errors, 'password') ? ' has-error' : '')}>
        <label for="unlock-password">${secret}</label>
        <${FieldMessage} id="unlock-password" message=${errorFor(errors, 'password')} />
        <input id="unlock-password" type="password" autocomplete="current-password" value=${password}
          onInput=${(/** @type {any} */ e) => setPassword(e.currentTarget.value)}
          aria-describedby=${errorFor(errors, 'password') ? 'unlock-password-error' : undefined} />
      </div>
      <button class="primary" type="submit" disabled=${busy}>${busy ? t('unlock.busy') : t('unlock.submit')}</button>
    </form>
    <p><button type="button" class="link" onClick=${otherAccount}>${t('unlock.other')}</button></p>
  </main>`;
}

/** The first sign-in with a password an admin gave: the person chooses their own. */
export function ChoosePassword() {
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const heading = useFocusHeading();

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if ([...password].length < 12) errs.push({ field: 'new_password', message: t('password.tooShort') });
    else if (password !== again) errs.push({ field: 'again', message: t('password.differ') });
    if (errs.length) return setErrors(errs);
    setBusy(true);
    try {
      await chooseOwnPassword(password);
    } catch (e) {
      if (e instanceof ApiError && e.problem.errors.length) setErrors(e.problem.errors);
      else setErrors([{ field: 'new_password', message: e instanceof ApiError && e.offline ? t('signin.offline') : t('errors.server') }]);
      setBusy(false);
    }
  }
  const field = (/** @type {string} */ name, /** @type {string} */ label, /** @type {string} */ value, /** @type {(v: string) => void} */ set, /** @type {string} */ hint) => html`<div class=${'field' + (errorFor(errors, name) ? ' has-error' : '')}>
    <label for=${'password-' + name}>${label}</label>
    ${hint && html`<p class="hint" id=${'password-' + name + '-hint'}>${hint}</p>`}
    <${FieldMessage} id=${'password-' + name} message=${errorFor(errors, name)} />
    <input id=${'password-' + name} type="password" autocomplete="new-password" value=${value}
      aria-describedby=${hint ? 'password-' + name + '-hint' : undefined} onInput=${(/** @type {any} */ e) => set(e.currentTarget.value)} />
  </div>`;
  return html`<main id="main" class="narrow">
    <h1 tabindex="-1" ref=${heading}>${t('password.title')}</h1>
    <p>${t('password.lead')}</p>
    <${ErrorSummary} errors=${errors} prefix="password" labels=${{ new_password: t('password.new'), again: t('password.again') }} />
    <form onSubmit=${submit} novalidate>
      ${field('new_password', t('password.new'), password, setPassword, t('password.hint'))}
      ${field('again', t('password.again'), again, setAgain, '')}
      <button class="primary" type="submit" disabled=${busy}>${busy ? t('password.busy') : t('password.submit')}</button>
    </form>
    <p><button type="button" class="link" onClick=${() => signOut()}>${t('nav.signOut')}</button></p>
  </main>`;
}

/**
 * After a single sign-on, for a role that keeps a copy: the passphrase that
 * seals this device's copy (there is no password to take its key from).
 * Chosen at the first single sign-on on the device, asked at each after.
 */
export function Passphrase() {
  const me = session.sso;
  const kept = !!me && session.copies.some((c) => c.staff_id === me.id);
  const [fresh, setFresh] = useState(!kept);
  const [passphrase, setPassphrase] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const heading = useFocusHeading();

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (fresh && [...passphrase].length < 12) errs.push({ field: 'passphrase', message: t('passphrase.tooShort') });
    else if (!passphrase) errs.push({ field: 'passphrase', message: t('signin.required', { field: t('passphrase.field') }) });
    else if (fresh && passphrase !== again) errs.push({ field: 'again', message: t('passphrase.differ') });
    if (errs.length) return setErrors(errs);
    setBusy(true);
    const ok = await usePassphrase(passphrase, fresh && kept).catch(() => null);
    if (ok === false) setErrors([{ field: 'passphrase', message: t('passphrase.wrong') }]);
    else if (ok === null) setErrors([{ field: 'passphrase', message: t('errors.server') }]);
    setBusy(false);
  }
  const field = (/** @type {string} */ name, /** @type {string} */ label, /** @type {string} */ value, /** @type {(v: string) => void} */ set, /** @type {string} */ hint) => html`<div class=${'field' + (errorFor(errors, name) ? ' has-error' : '')}>
    <label for=${'passphrase-' + name}>${label}</label>
    ${hint && html`<p class="hint" id=${'passphrase-' + name + '-hint'}>${hint}</p>`}
    <${FieldMessage} id=${'passphrase-' + name} message=${errorFor(errors, name)} />
    <input id=${'passphrase-' + name} type="password" autocomplete=${fresh ? 'new-password' : 'current-password'} value=${value}
      aria-describedby=${hint ? 'passphrase-' + name + '-hint' : undefined} onInput=${(/** @type {any} */ e) => set(e.currentTarget.value)} />
  </div>`;
  return html`<main id="main" class="narrow">
    <h1 tabindex="-1" ref=${heading}>${t(fresh ? 'passphrase.titleNew' : 'passphrase.title')}</h1>
    <p>${t(fresh ? (kept ? 'passphrase.leadReplace' : 'passphrase.leadNew') : 'passphrase.lead', { username: me?.username ?? '' })}</p>
    <${ErrorSummary} errors=${errors} prefix="passphrase" labels=${{ passphrase: t('passphrase.label'), again: t('passphrase.again') }} />
    <form onSubmit=${submit} novalidate>
      <input type="text" name="username" autocomplete="username" value=${me?.username ?? ''} class="visually-hidden" tabindex="-1" aria-hidden="true" readonly />
      ${field('passphrase', t('passphrase.label'), passphrase, setPassphrase, fresh ? t('passphrase.hint') : '')}
      ${fresh && field('again', t('passphrase.again'), again, setAgain, '')}
      <button class="primary" type="submit" disabled=${busy}>${busy ? t('passphrase.busy') : t(fresh ? 'passphrase.submitNew' : 'passphrase.submit')}</button>
    </form>
    ${kept && !fresh && html`<p><button type="button" class="link" onClick=${() => { setErrors([]); setFresh(true); }}>${t('passphrase.forgot')}</button></p>`}
    <p><button type="button" class="link" onClick=${() => signOut()}>${t('nav.signOut')}</button></p>
  </main>`;
}
