// The social worker's and supervisor's day, from the copy: what needs doing
// first (urgent support requests, overdue follow-ups, referrals whose
// follow-up date has come), then my follow-ups due, my referrals needing
// attention, and the open cases with their counts.
import { html } from '../lib/html.js';
import { dayOf, t } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { changeRecord } from '../lib/actions.js';
import { FollowUpItem, ReferralItem, todayIso } from './case.js';
import { useFocusHeading } from './ui.js';

const CLOSED = ['completed', 'failed', 'rejected', 'cancelled', 'entered_in_error'];
const URGENCY = { emergency: 0, urgent: 1, routine: 2 };

/** @param {any} r */
export const referralOpen = (r) => !CLOSED.includes(r.status);

/** The cases in the caller's own work: owned or on the team (a supervisor: the branches'). */
function myCases() {
  const me = copy.account?.staff_id ?? '';
  const all = copy.all('case').filter((c) => c.status === 'open');
  if (copy.account?.role === 'supervisor') return all;
  return all.filter((c) => c.owner_id === me || (c.team ?? []).includes(me));
}

/** @param {any} a @param {any} b */
export const byUrgency = (a, b) =>
  (URGENCY[/** @type {keyof typeof URGENCY} */ (a.urgency)] ?? 3) - (URGENCY[/** @type {keyof typeof URGENCY} */ (b.urgency)] ?? 3) || a.created_at.localeCompare(b.created_at);

export function Caseload() {
  const heading = useFocusHeading();
  const me = copy.account?.staff_id ?? '';
  const today = todayIso();
  const horizon = new Date(Date.now() + 7 * 86400_000).toISOString().slice(0, 10);
  const cases = myCases();
  const caseIds = new Set(cases.map((c) => c.id));

  const requests = copy.all('support_request').filter((r) => r.status === 'open').sort(byUrgency);
  const followUps = copy.all('follow_up').filter((f) => f.status === 'open' && f.assigned_to === me && f.due_on <= horizon).sort((a, b) => a.due_on.localeCompare(b.due_on));
  const attention = copy.all('referral')
    .filter((r) => referralOpen(r) && r.follow_up_on && r.follow_up_on <= today && (r.created_by === me || caseIds.has(r.case_id)))
    .sort((a, b) => a.follow_up_on.localeCompare(b.follow_up_on));

  const openReferrals = (/** @type {string} */ id) => copy.all('referral').filter((r) => r.case_id === id && referralOpen(r)).length;
  const overdueFollowUps = (/** @type {string} */ id) => copy.all('follow_up').filter((f) => f.case_id === id && f.status === 'open' && f.due_on < today).length;
  const needing = (/** @type {any} */ c) => overdueFollowUps(c.id) + copy.all('referral').filter((r) => r.case_id === c.id && referralOpen(r) && r.follow_up_on && r.follow_up_on <= today).length;
  const sortedCases = cases.sort((a, b) => needing(b) - needing(a) || b.last_activity_at.localeCompare(a.last_activity_at));

  /** @param {any} f */
  const done = (f) => changeRecord('follow_up', f, { path: `/v1/follow-ups/${f.id}/done`, label: t('op.followUpDone', { date: dayOf(f.due_on) }) }, { status: 'done', done_at: new Date().toISOString(), done_by: me, overdue: false });
  const urgent = requests.filter((r) => r.urgency !== 'routine');

  return html`<main id="main">
    <h1 tabindex="-1" ref=${heading}>${t('caseload.title')}</h1>
    ${urgent.length > 0 && html`<div class="warning" role="status" data-testid="urgent-requests">
      <strong>${t('caseload.urgentRequests', { n: urgent.length })}</strong> <a href="#/requests">${t('caseload.openInbox')}</a>
    </div>`}
    <div class="columns">
      <section aria-labelledby="caseload-follow-ups">
        <h2 id="caseload-follow-ups">${t('caseload.followUps')}</h2>
        ${followUps.length ? html`<ul class="list">${followUps.map((f) => html`<${FollowUpItem} key=${f.id} f=${f} onDone=${done} />`)}</ul>` : html`<p class="muted">${t('today.noFollowUps')}</p>`}
        <h2 id="caseload-referrals">${t('caseload.referrals')}</h2>
        ${attention.length ? html`<ul class="list">${attention.map((r) => html`<${ReferralItem} key=${r.id} referral=${r} withPatron=${true} />`)}</ul>` : html`<p class="muted">${t('caseload.noReferrals')}</p>`}
        <h2 id="caseload-requests">${t('caseload.requests')}</h2>
        ${requests.length ? html`<p><a href="#/requests">${t('caseload.requestsWaiting', { n: requests.length })}</a></p>` : html`<p class="muted">${t('caseload.noRequests')}</p>`}
      </section>
      <section aria-labelledby="caseload-cases">
        <h2 id="caseload-cases">${copy.account?.role === 'supervisor' ? t('caseload.branchCases') : t('caseload.cases')}</h2>
        ${sortedCases.length ? html`<ul class="list" data-testid="caseload-cases">${sortedCases.map((c) => {
          const patron = copy.get('patron', c.patron_id);
          const refs = openReferrals(c.id);
          const late = overdueFollowUps(c.id);
          return html`<li class="item" key=${c.id}>
            <div class="item-head"><a href=${'#/case/' + c.id}><strong>${patron?.preferred_name ?? t('case.patron')}</strong></a>
              ${late > 0 && html`<span class="badge badge-rejected">${t('caseload.overdueCount', { n: late })}</span>`}</div>
            <div class="summary">${c.summary || t('patrons.noSummary')}</div>
            <div class="muted">${t('caseload.openReferrals', { n: refs })}</div>
          </li>`;
        })}</ul>` : html`<p class="muted">${t('caseload.noCases')}</p>`}
      </section>
    </div>
  </main>`;
}
