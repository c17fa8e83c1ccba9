// The app of the roles on the other side of the wall or at a desk: security,
// branch staff, auditors and admins. Online only: no copy, no outbox, nothing
// of their records kept on the device; each screen asks the server and says
// so when the network is gone. Each area's module gives its menu and screens.
import { useEffect, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { session, signOut } from '../lib/session.js';
import { status } from '../lib/sync.js';
import * as safety from './safety.js';
import * as audit from './audit.js';
import * as admin from './admin.js';

/** @typedef {{menu: (role: string) => [string, string][], screen: (role: string, parts: string[]) => any}} Area */

/** @type {Area[]} */
const AREAS = [safety, audit, admin];

/** The online pill and what this app keeps (nothing). */
function DeskStatus() {
  const [, setOnline] = useState(status.online);
  useEffect(() => {
    const on = () => setOnline(navigator.onLine);
    addEventListener('online', on);
    addEventListener('offline', on);
    return () => { removeEventListener('online', on); removeEventListener('offline', on); };
  }, []);
  const online = navigator.onLine;
  return html`<div class="status-bar" role="status" aria-label=${t('status.label')}>
    <span class=${'pill ' + (online ? 'online' : 'offline')} data-testid="online">${online ? t('status.online') : t('status.offline')}</span>
    <span>${t('office.onlineOnly')}</span>
  </div>`;
}

/** @param {{hash: string}} props */
export function Office({ hash }) {
  const me = /** @type {NonNullable<typeof session.other>} */ (session.other);
  const role = me.role;
  const menu = AREAS.flatMap((a) => a.menu(role));
  const parts = hash.split('/').slice(1);
  const route = parts[0] || menu[0]?.[0] || '';
  const full = route === parts[0] ? parts : [route, ...parts.slice(1)];
  let screen = null;
  for (const a of AREAS) {
    screen = a.screen(role, full);
    if (screen) break;
  }
  const current = (/** @type {string} */ r) => (route === r ? 'page' : undefined);
  return html`<div class="shell">
    <header class="top">
      <div class="brand">${t('app.name')}</div>
      <div class="who">${t('nav.signedInAs', { name: me.display_name })} · ${t('role.' + role)}</div>
      <button type="button" class="secondary small" onClick=${() => signOut()}>${t('nav.signOut')}</button>
    </header>
    <${DeskStatus} />
    <nav aria-label=${t('nav.label')} class="nav">
      ${menu.map(([r, key]) => html`<a href=${'#/' + r} aria-current=${current(r)}>${t(key)}</a>`)}
    </nav>
    ${screen ?? html`<main id="main"><h1>${t('office.nothing')}</h1></main>`}
  </div>`;
}
