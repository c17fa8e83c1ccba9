// Signing in, unlocking a copy kept on the device, signing out, and the wipes
// (sign-out, an ended session, days without a sync).
import { forgetStaff } from './staff.js';
import { api, ApiError, onAuth, resume, setTokens, signedIn } from './api.js';
import { config } from './config.js';
import { copiesOnDevice, copy, expired } from './copy.js';
import { stop, syncSoon, whenReset } from './sync.js';

/** @typedef {import('../types/app').Schemas} Schemas */

/** Roles that hold an offline copy (the sync feed answers them). */
const FIELD_ROLES = ['peer', 'social_worker', 'supervisor'];

export const session = {
  /** @type {'loading' | 'signin' | 'unlock' | 'password' | 'passphrase' | 'app'} */
  screen: 'loading',
  /** The password an admin gave, held only until the account chooses its own. */
  given: '',
  /** @type {{staff_id: string, username: string, passphrase?: boolean}[]} */
  copies: [],
  /** @type {Schemas['StaffOut'] | null} after a single sign-on, for a role that keeps a copy: the account whose device passphrase is asked */
  sso: null,
  /** @type {{key: string, detail?: string, discarded?: number} | null} a message for the sign-in screen (`discarded`: unsent changes deleted with the copy) */
  notice: null,
  /** @type {Schemas['StaffOut'] | null} the signed-in account when it keeps no copy */
  other: null,
};

/** The refresh token, in memory (and sealed in the copy). */
let refreshToken = '';

export function deviceName() {
  return localStorage.getItem(config.deviceNameKey) ?? '';
}

/**
 * What a single sign-on's last redirect left in the address (`#sso=ticket`
 * or `#sso-error=reason`), taken out of it at once so that the ticket is
 * neither kept in the history nor shown.
 * @returns {{ticket?: string, error?: string} | null}
 */
function ssoReturn() {
  const m = /^#sso(-error)?=([A-Za-z0-9_-]{1,128})$/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return m[1] ? { error: m[2] } : { ticket: m[2] };
}

/**
 * Sends the browser to the identity provider (single sign-on); it comes back
 * to `/#sso=...`.
 * @param {string} device
 */
export function signInWithProvider(device) {
  localStorage.setItem(config.deviceNameKey, device);
  location.assign('/v1/auth/sso/start?device_name=' + encodeURIComponent(device));
}

/**
 * Redeems a single sign-on's ticket for the session's tokens. A desk role
 * goes on at once; a role that keeps a copy is asked for the device
 * passphrase, which makes (or opens) the copy's key.
 * @param {string} ticket
 */
async function redeemSso(ticket) {
  const t = await api('post', '/v1/auth/sso/redeem', { body: { ticket }, auth: false });
  setTokens({ access: t.access_token, refresh: t.refresh_token });
  refreshToken = t.refresh_token;
  const me = await api('get', '/v1/me');
  if (!FIELD_ROLES.includes(me.role)) {
    session.other = me;
    session.screen = 'app';
    copy.changed();
    return;
  }
  session.sso = me;
  session.copies = await copiesOnDevice().catch(() => []);
  session.screen = 'passphrase';
  copy.changed();
}

/**
 * The device passphrase after a single sign-on: opens this account's copy
 * kept here, or makes a new one sealed by it.
 * @param {string} passphrase
 * @param {boolean} fresh make a new copy even if one is kept here (its passphrase was forgotten; what it holds unsent is lost)
 * @returns {Promise<boolean>} false when the passphrase does not open the copy kept here
 */
export async function usePassphrase(passphrase, fresh) {
  const me = /** @type {Schemas['StaffOut']} */ (session.sso);
  const kept = session.copies.some((c) => c.staff_id === me.id);
  if (kept && !fresh) {
    const opened = await copy.unlock(me.id, passphrase);
    if (!opened) return false;
    // The new session's refresh token replaces the one sealed in the copy.
    await copy.saveSecret(refreshToken);
    session.sso = null;
    session.screen = 'app';
    copy.changed();
    syncSoon();
    return true;
  }
  session.sso = null;
  await afterSignIn(passphrase, true);
  return true;
}

export async function start() {
  const back = ssoReturn();
  // Only the reasons the server sends have words; anything else reads as a refusal.
  const reasons = ['state', 'provider', 'unavailable', 'token', 'not_allowed', 'throttled'];
  if (back?.error) session.notice = { key: 'sso.error.' + (reasons.includes(back.error) ? back.error : 'token') };
  if (back?.ticket) {
    try {
      await redeemSso(back.ticket);
      return;
    } catch {
      session.notice = { key: 'sso.error.ticket' };
    }
  }
  // Never left on "Opening": if the browser's storage does not answer in a
  // few seconds (or fails), show sign-in; the copies are listed again later.
  const listed = copiesOnDevice().catch(() => []);
  const late = new Promise((resolve) => setTimeout(() => resolve(null), config.openTimeoutMs));
  const found = await Promise.race([listed, late]);
  session.copies = found ?? [];
  session.screen = session.copies.length ? 'unlock' : 'signin';
  copy.changed();
  if (found === null) {
    const copies = await listed;
    if (copies.length && session.screen === 'signin') {
      session.copies = copies;
      session.screen = 'unlock';
      copy.changed();
    }
  }
}

/**
 * @param {string} username
 * @param {string} password
 * @param {string} device
 */
export async function signIn(username, password, device) {
  const t = await api('post', '/v1/auth/login', { body: { username, password, device_name: device }, auth: false });
  localStorage.setItem(config.deviceNameKey, device);
  setTokens({ access: t.access_token, refresh: t.refresh_token });
  refreshToken = t.refresh_token;
  if (t.password_change_required) {
    // An admin set this password: the account chooses its own before anything else.
    session.given = password;
    session.notice = null;
    session.screen = 'password';
    copy.changed();
    return;
  }
  await afterSignIn(password);
}

/**
 * Chooses one's own password in place of the one an admin gave, then goes on
 * as after any sign-in (the copy, for the roles that keep one, is sealed
 * under the new password).
 * @param {string} newPassword
 */
export async function chooseOwnPassword(newPassword) {
  await api('post', '/v1/me/password', { body: { current_password: session.given, new_password: newPassword } });
  session.given = '';
  await afterSignIn(newPassword);
}

/**
 * What follows a sign-in: the account, and its copy when its role keeps one.
 * @param {string} password the password, or the device passphrase after a single sign-on
 * @param {boolean} [passphrase]
 */
async function afterSignIn(password, passphrase = false) {
  const me = await api('get', '/v1/me');
  session.notice = null;
  if (!FIELD_ROLES.includes(me.role)) {
    // Nothing of another role's side is kept on the device.
    session.other = me;
    session.screen = 'app';
    copy.changed();
    return;
  }
  /** @type {{id: string, name: string}[]} */
  let branches = [];
  try {
    branches = (await api('get', '/v1/branches')).items.filter((b) => me.branches.includes(b.id)).map((b) => ({ id: b.id, name: b.name }));
  } catch {
    branches = me.branches.map((id) => ({ id, name: id }));
  }
  const account = { staff_id: me.id, username: me.username, display_name: me.display_name, role: me.role, branches: me.branches };
  await copy.openAfterSignIn(account, password, refreshToken, branches, passphrase);
  session.screen = 'app';
  copy.changed();
  syncSoon();
}

/**
 * @param {string} staffId
 * @param {string} password
 * @returns {Promise<boolean>} false when the password does not open the copy
 */
export async function unlock(staffId, password) {
  const r = await copy.unlock(staffId, password);
  if (!r) return false;
  if (expired(copy.lastSync)) {
    await endSession('notice.stale');
    return true;
  }
  refreshToken = r.refresh ?? '';
  session.screen = 'app';
  copy.changed();
  await reconnect();
  return true;
}

/** After an unlock, or when the network returns: resume the session from the sealed refresh token. */
async function reconnect() {
  if (!copy.unlocked || signedIn() || !refreshToken || !navigator.onLine) return;
  try {
    if (await resume(refreshToken)) syncSoon();
  } catch {
    // Still offline: the next `online` event tries again.
  }
}

/**
 * Wipes the copy (outbox included) and goes back to sign-in with a notice.
 * @param {string} noticeKey
 * @param {string} [detail]
 */
async function endSession(noticeKey, detail) {
  const discarded = copy.unsent().length;
  stop();
  setTokens(null);
  refreshToken = '';
  await copy.wipe();
  forgetStaff();
  session.copies = await copiesOnDevice();
  session.notice = { key: noticeKey, detail, discarded };
  session.other = null;
  session.given = '';
  session.screen = 'signin';
  copy.changed();
}

/** Signs out: ends the session on the server when it can, and wipes the copy. */
export async function signOut() {
  if (signedIn()) {
    try {
      await api('post', '/v1/auth/logout');
    } catch {
      // Offline or already ended: the copy is wiped all the same.
    }
  }
  await endSession('notice.signedOut');
}

/** Goes to the sign-in screen without opening the copy kept here. */
export function otherAccount() {
  session.screen = 'signin';
  copy.changed();
}

// A sync `reset`: the account changed on the server (role, branches, the
// account itself), so what the copy holds, and what the outbox would send, may
// no longer be the caller's. The whole copy goes, as at sign-out.
whenReset(async () => {
  if (signedIn()) {
    try {
      await api('post', '/v1/auth/logout');
    } catch {
      // The copy is wiped all the same.
    }
  }
  await endSession('notice.reset');
});

onAuth({
  refreshed: (r) => {
    refreshToken = r;
    copy.saveSecret(r);
  },
  sessionEnded: (p) => {
    endSession('notice.ended', p.detail);
  },
});

addEventListener('online', () => {
  reconnect();
});

setInterval(() => {
  if (copy.unlocked && expired(copy.lastSync)) endSession('notice.stale');
}, 60_000);

export { ApiError };
