// A patron's file: who they are (as little as needed), their cases, consents,
// referrals and the contacts the caller holds.
import { html } from '../lib/html.js';
import { dayOf, t, timeOf } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { Consents, Pending, ReferralItem, branchName } from './case.js';
import { useFocusHeading } from './ui.js';

/** @param {{id: string}} props */
export function PatronFile({ id }) {
  const heading = useFocusHeading();
  const p = copy.get('patron', id);
  if (!p) return html`<main id="main"><h1 tabindex="-1" ref=${heading}>${t('patronFile.title')}</h1><p>${t('patron.missing')}</p><p><a href="#/patrons">${t('patron.back')}</a></p></main>`;
  const role = copy.account?.role;
  const cases = copy.all('case').filter((c) => c.patron_id === id).sort((a, b) => (a.status === b.status ? b.opened_at.localeCompare(a.opened_at) : a.status === 'open' ? -1 : 1));
  const referrals = copy.all('referral').filter((r) => r.patron_id === id).sort((a, b) => b.created_at.localeCompare(a.created_at));
  const contacts = copy.all('contact').filter((c) => c.patron_id === id).sort((a, b) => b.occurred_at.localeCompare(a.occurred_at)).slice(0, 10);
  const hasOpen = cases.some((c) => c.status === 'open');
  return html`<main id="main">
    <h1 tabindex="-1" ref=${heading}>${p.preferred_name} <${Pending} kind="patron" id=${p.id} /></h1>
    <div class="columns">
      <div>
        <section aria-labelledby="patron-details-title">
          <h2 id="patron-details-title">${t('patronFile.details')}</h2>
          <dl class="facts">
            ${p.legal_name && html`<dt>${t('patronFile.legalName')}</dt><dd>${p.legal_name}</dd>`}
            <dt>${t('patronFile.born')}</dt><dd>${p.birth_date ? dayOf(p.birth_date) : p.birth_year ?? t('patronFile.notSaid')}</dd>
            <dt>${t('patron.language')}</dt><dd>${p.language ?? t('patronFile.notSaid')}</dd>
            <dt>${t('patron.contactPreference')}</dt><dd>${p.contact_preference ? t('pref.' + p.contact_preference) : t('patron.noPreference')}</dd>
            <dt>${t('patronFile.homeBranch')}</dt><dd>${branchName(p.home_branch_id)}</dd>
          </dl>
          ${p.do_not_contact && html`<p class="warning"><strong>${t('patron.doNotContact')}</strong></p>`}
          ${p.possible_duplicates?.length > 0 && html`<div class="warning" data-testid="server-duplicates">
            <p><strong>${t('patronFile.duplicates')}</strong></p>
            <ul>${p.possible_duplicates.map((/** @type {string} */ d) => {
              const other = copy.get('patron', d);
              return html`<li>${other ? html`<a href=${'#/patron/' + d}>${other.preferred_name}</a>` : t('patronFile.duplicateElsewhere')}</li>`;
            })}</ul>
            <p>${t('patronFile.duplicatesHint')}</p>
          </div>`}
          ${role === 'supervisor' && html`<a class="button secondary" href=${'#/patron/' + id + '/edit'}>${t('patron.title')}</a>`}
        </section>
        <section aria-labelledby="patron-cases-title">
          <h2 id="patron-cases-title">${t('patronFile.cases')}</h2>
          ${cases.length
            ? html`<ul class="list">${cases.map((c) => html`<li class="item" key=${c.id}>
                <div class="item-head"><a href=${'#/case/' + c.id}><strong>${t('patronFile.caseOpened', { date: dayOf(c.opened_at) })}</strong></a>
                  <span><span class=${'badge status-' + c.status}>${t('caseStatus.' + c.status)}</span> <${Pending} kind="case" id=${c.id} /></span></div>
                <div class="summary">${c.summary || t('patrons.noSummary')}</div>
              </li>`)}</ul>`
            : html`<p class="muted">${t('patrons.noCase')}</p>`}
          ${role === 'social_worker' && !hasOpen && html`<a class="button primary" href=${'#/patron/' + id + '/case'}>${t('patronFile.openCase')}</a>`}
        </section>
      </div>
      <div>
        <section aria-labelledby="patron-referrals-title">
          <h2 id="patron-referrals-title">${t('case.referrals')}</h2>
          ${referrals.length ? html`<ul class="list">${referrals.map((r) => html`<${ReferralItem} key=${r.id} referral=${r} />`)}</ul>` : html`<p class="muted">${t('case.noReferrals')}</p>`}
        </section>
        ${role !== 'peer' && html`<${Consents} patronId=${id} mayWrite=${role === 'social_worker'} />`}
        <section aria-labelledby="patron-contacts-title">
          <h2 id="patron-contacts-title">${t('patronFile.contacts')}</h2>
          ${contacts.length
            ? html`<ul class="list">${contacts.map((c) => html`<li class="item" key=${c.id}>${dayOf(c.occurred_at)} ${timeOf(c.occurred_at)} · ${t('kind.' + c.kind)}${c.needs?.length ? ' · ' + c.needs.map((/** @type {string} */ n) => t('need.' + n)).join(', ') : ''}</li>`)}</ul>`
            : html`<p class="muted">${t('today.noContacts')}</p>`}
        </section>
      </div>
    </div>
  </main>`;
}
