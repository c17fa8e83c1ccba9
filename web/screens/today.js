// The peer's day: contacts today and this week, follow-ups due, patrons with case summaries.
import { html } from '../lib/html.js';
import { dayOf, t, timeOf } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { Badge, useFocusHeading } from './ui.js';
import { PatronCard } from './patrons.js';

/** @param {any} contact */
export function ContactItem({ contact }) {
  const patron = contact.patron_id ? copy.get('patron', contact.patron_id) : null;
  const pending = copy.pendingFor('contact', contact.id);
  return html`<li class="item">
    <div class="item-head">
      <strong>${timeOf(contact.occurred_at)} · ${t('kind.' + contact.kind)}</strong>
      ${pending && html`<${Badge} state=${pending.state} />`}
    </div>
    <div>${patron ? patron.preferred_name : t('contact.anonymous')}${contact.needs?.length ? ' · ' + contact.needs.map((/** @type {string} */ n) => t('need.' + n)).join(', ') : ''}</div>
    ${contact.services_given?.length > 0 && html`<div class="muted">${t('contact.services', { list: contact.services_given.join(', ') })}</div>`}
    ${contact.worker_id === copy.account?.staff_id && html`<a class="button secondary" href=${'#/contact/' + contact.id}>${t('contact.edit')}<span class="visually-hidden">${t('contact.editWho', { time: timeOf(contact.occurred_at) })}</span></a>`}
  </li>`;
}

export function Today() {
  const heading = useFocusHeading();
  const me = copy.account?.staff_id;
  const now = new Date();
  const startOfDay = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const startOfWeek = startOfDay - ((now.getDay() + 6) % 7) * 86400_000;
  const mine = copy.all('contact').filter((c) => c.worker_id === me).sort((a, b) => b.occurred_at.localeCompare(a.occurred_at));
  const today = mine.filter((c) => Date.parse(c.occurred_at) >= startOfDay);
  const week = mine.filter((c) => Date.parse(c.occurred_at) >= startOfWeek && Date.parse(c.occurred_at) < startOfDay);
  const horizon = new Date(startOfDay + 7 * 86400_000).toISOString().slice(0, 10);
  const followUps = copy.all('follow_up').filter((f) => f.status === 'open' && f.assigned_to === me && f.due_on <= horizon).sort((a, b) => a.due_on.localeCompare(b.due_on));
  const patrons = copy.all('patron').sort((a, b) => a.preferred_name.localeCompare(b.preferred_name)).slice(0, 12);

  return html`<main id="main">
    <h1 tabindex="-1" ref=${heading}>${t('today.title')}</h1>
    <p><a class="button primary big" href="#/log">${t('today.log')}</a></p>
    <div class="columns">
      <section aria-labelledby="today-contacts">
        <h2 id="today-contacts">${t('today.contactsToday')}</h2>
        ${today.length ? html`<ul class="list">${today.map((c) => html`<${ContactItem} key=${c.id} contact=${c} />`)}</ul>` : html`<p class="muted">${t('today.noContacts')}</p>`}
        <h2 id="today-week">${t('today.contactsWeek')}</h2>
        ${week.length ? html`<ul class="list">${week.map((c) => html`<${ContactItem} key=${c.id} contact=${c} />`)}</ul>` : html`<p class="muted">${t('today.noContacts')}</p>`}
      </section>
      <section aria-labelledby="today-follow-ups">
        <h2 id="today-follow-ups">${t('today.followUps')}</h2>
        ${followUps.length
          ? html`<ul class="list">${followUps.map((f) => html`<li class="item" key=${f.id}>
              <strong>${f.overdue ? t('today.overdue', { date: dayOf(f.due_on) }) : t('today.due', { date: dayOf(f.due_on) })}</strong>
              ${f.note && html`<div>${f.note}</div>`}
            </li>`)}</ul>`
          : html`<p class="muted">${t('today.noFollowUps')}</p>`}
        <h2 id="today-patrons">${t('today.patrons')}</h2>
        <ul class="list">${patrons.map((p) => html`<${PatronCard} key=${p.id} patron=${p} />`)}</ul>
        <p><a href="#/patrons">${t('today.allPatrons')}</a></p>
      </section>
    </div>
  </main>`;
}
