// The app: sign-in or unlock, then the peer's screens over the local copy.
import { render } from './vendor/preact.mjs';
import { useEffect, useReducer, useState } from './vendor/hooks.mjs';
import { html } from './lib/html.js';
import { t, timeOf } from './lib/t.js';
import { copy } from './lib/copy.js';
import { signedIn } from './lib/api.js';
import { session, signOut, start } from './lib/session.js';
import { status, syncSoon } from './lib/sync.js';
import { loadStaff } from './lib/staff.js';
import { ChoosePassword, Passphrase, SignIn, Unlock } from './screens/signin.js';
import { Office } from './screens/office.js';
import { Today } from './screens/today.js';
import { LogContact } from './screens/log.js';
import { EditPatron, Patrons } from './screens/patrons.js';
import { Fix, Outbox } from './screens/outbox.js';
import { Caseload } from './screens/caseload.js';
import { PatronFile } from './screens/patron.js';
import { CaseFile, OpenCase } from './screens/case.js';
import { NewReferral, Referral } from './screens/referral.js';
import { NewReport, Report } from './screens/report.js';
import { Request, Requests } from './screens/requests.js';
import { Supervise } from './screens/supervise.js';
import { Statistics } from './screens/stats.js';

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function StatusBar() {
  const waiting = copy.outbox.filter((e) => e.state === 'waiting').length;
  const needYou = copy.outbox.filter((e) => e.state === 'conflict' || e.state === 'rejected').length;
  return html`<div class="status-bar" role="status" aria-label=${t('status.label')}>
    <span class=${'pill ' + (status.online ? 'online' : 'offline')} data-testid="online">${status.online ? t('status.online') : t('status.offline')}</span>
    <a href="#/outbox" data-testid="waiting">${waiting === 0 ? t('status.nothingWaiting') : waiting === 1 ? t('status.waitingOne') : t('status.waiting', { n: waiting })}</a>
    ${needYou > 0 && html`<a href="#/outbox" class="pill attention" data-testid="need-you">${t('status.needYou', { n: needYou })}</a>`}
    <span data-testid="last-synced">${status.syncing ? t('status.syncing') : copy.lastSync ? t('status.lastSynced', { when: timeOf(new Date(copy.lastSync).toISOString()) }) : t('status.neverSynced')}</span>
    ${status.error && html`<span>${t(status.error)}</span>`}
    ${status.online && !signedIn() && html`<span>${t('status.notSignedIn')}</span>`}
    <button type="button" class="secondary small" onClick=${syncSoon} disabled=${!status.online || status.syncing}>${t('status.syncNow')}</button>
  </div>`;
}

function SignOutButton() {
  const [asking, setAsking] = useState(false);
  const unsent = copy.outbox.filter((e) => e.state !== 'applied' && e.state !== 'duplicate').length;
  if (!asking) return html`<button type="button" class="secondary small" onClick=${() => (unsent ? setAsking(true) : signOut())}>${t('nav.signOut')}</button>`;
  return html`<div class="signout-confirm" role="alertdialog" aria-labelledby="signout-title">
    <h2 id="signout-title">${t('signout.title')}</h2>
    <p>${t('signout.warning', { n: unsent })}</p>
    <button type="button" class="danger" onClick=${() => signOut()}>${t('signout.confirm')}</button>
    <button type="button" class="secondary" onClick=${() => setAsking(false)}>${t('signout.cancel')}</button>
  </div>`;
}

/**
 * The main menu of each role of the field: [route, catalogue key].
 * @type {Record<string, [string, string][]>}
 */
const MENUS = {
  peer: [['today', 'nav.today'], ['log', 'nav.log'], ['patrons', 'nav.patrons']],
  social_worker: [['today', 'nav.caseload'], ['log', 'nav.log'], ['patrons', 'nav.patrons'], ['requests', 'nav.requests']],
  supervisor: [['today', 'nav.caseload'], ['patrons', 'nav.patrons'], ['requests', 'nav.requests'], ['supervise', 'nav.supervise'], ['stats', 'nav.stats']],
};

/** @param {{hash: string}} props */
function Screen({ hash }) {
  const [, route, arg, sub] = hash.split('/');
  const role = copy.account?.role ?? 'peer';
  if (route === 'log') return html`<${LogContact} />`;
  if (route === 'patrons') return html`<${Patrons} />`;
  if (route === 'patron' && arg && sub === 'edit') return html`<${EditPatron} key=${arg} id=${arg} />`;
  if (route === 'patron' && arg && sub === 'case') return html`<${OpenCase} key=${arg} patronId=${arg} />`;
  if (route === 'patron' && arg) return html`<${PatronFile} key=${arg} id=${arg} />`;
  if (route === 'contact' && arg) return html`<${LogContact} key=${arg} editing=${copy.get('contact', arg)} />`;
  if (route === 'case' && arg && sub === 'refer') return html`<${NewReferral} key=${arg} caseId=${arg} />`;
  if (route === 'case' && arg && sub === 'report') return html`<${NewReport} key=${arg} caseId=${arg} />`;
  if (route === 'case' && arg) return html`<${CaseFile} key=${arg} id=${arg} />`;
  if (route === 'referral' && arg) return html`<${Referral} key=${arg} id=${arg} />`;
  if (route === 'report' && arg) return html`<${Report} key=${arg} id=${arg} />`;
  if (route === 'requests' && role !== 'peer') return html`<${Requests} />`;
  if (route === 'request' && arg && role !== 'peer') return html`<${Request} key=${arg} id=${arg} />`;
  if (route === 'supervise' && role === 'supervisor') return html`<${Supervise} />`;
  if (route === 'stats' && role === 'supervisor') return html`<${Statistics} />`;
  if (route === 'outbox') return html`<${Outbox} />`;
  if (route === 'fix' && arg) return html`<${Fix} opId=${arg} />`;
  return role === 'peer' ? html`<${Today} />` : html`<${Caseload} />`;
}

function App() {
  const [, tick] = useReducer((/** @type {number} */ n, /** @type {number} */ _) => n + 1, 0);
  useEffect(() => {
    const off = copy.subscribe(() => tick(0));
    // A change made before this effect ran (opening can finish first) would
    // otherwise be missed, leaving the app on "Opening" until the next one.
    tick(0);
    return off;
  }, []);
  const hash = useHash();

  if (session.screen === 'loading') return html`<main id="main" class="narrow"><p>${t('app.loading')}</p></main>`;
  if (session.screen === 'signin') return html`<${SignIn} />`;
  if (session.screen === 'unlock') return html`<${Unlock} />`;
  if (session.screen === 'password') return html`<${ChoosePassword} />`;
  if (session.screen === 'passphrase') return html`<${Passphrase} />`;
  if (session.other) return html`<${Office} hash=${hash} />`;
  // Names for the ids records carry (online only; loaded once, kept in memory).
  if (status.online && signedIn()) loadStaff();
  const route = hash.split('/')[1] ?? '';
  const link = (/** @type {string} */ r, /** @type {string} */ label) =>
    html`<a href=${'#/' + r} aria-current=${(route || 'today') === r ? 'page' : undefined}>${label}</a>`;
  const needYou = copy.outbox.filter((e) => e.state !== 'applied' && e.state !== 'duplicate').length;
  return html`<div class="shell">
    <header class="top">
      <div class="brand">${t('app.name')}</div>
      <div class="who">${t('nav.signedInAs', { name: copy.account?.display_name ?? '' })}</div>
      <${SignOutButton} />
    </header>
    <${StatusBar} />
    <nav aria-label=${t('nav.label')} class="nav">
      ${(MENUS[copy.account?.role ?? 'peer'] ?? MENUS.peer).map(([r, key]) => link(r, t(key)))}
      ${link('outbox', needYou ? `${t('nav.outbox')} (${needYou})` : t('nav.outbox'))}
    </nav>
    <${Screen} hash=${hash} />
  </div>`;
}

// The page's own words come from the catalogue too (index.html keeps an
// English fallback for the moment before this runs).
const skip = document.querySelector('.skip-link');
if (skip) skip.textContent = t('app.skip');

const root = /** @type {HTMLElement} */ (document.getElementById('app'));
render(html`<${App} />`, root);
start();

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
    // The app works without it; only opening offline needs it.
  });
}
