// "Who searched for this name?": the trail keeps keyed fingerprints of the
// words of each patron search, never the words; the server fingerprints the
// words asked here the same way and answers with the searches that held them.
// The words stay in this screen's memory (never in the address or history).
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { status } from '../lib/sync.js';
import { ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';
import { Id, LoadNotice, OutcomeBadge, PatronLinks, ShowMore, Time, branchName, loadDirectory, roleLabel, staffName, typeLabel, useLoad, usePaged } from './audit-common.js';

/** @typedef {import('./ui.js').FieldError} FieldError */

/** Searchable: at least one letter or digit, at most 100 characters, no control characters. */
function check(/** @type {string} */ text) {
  const s = text.trim();
  if (!s) return t('audit.err.searchEmpty');
  if ([...s].length > 100) return t('audit.err.searchLong');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(s)) return t('audit.err.searchControl');
  if (!/[\p{L}\p{N}]/u.test(s)) return t('audit.err.searchNothing');
  return '';
}

export function WhoSearched() {
  const heading = useFocusHeading();
  const [text, setText] = useState('');
  const [trail, setTrail] = useState(false);
  const [asked, setAsked] = useState(/** @type {{words: string, trail: boolean, n: number} | null} */ (null));
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ ([]));
  const dir = useLoad(loadDirectory, 'directory');
  const key = asked ? `${asked.n}` : null;
  const list = usePaged((cursor) => api('get', '/v1/audit/events', {
    // Patron searches only, unless the auditors' own searches of the trail are asked for too.
    query: /** @type {any} */ ({ search_text: asked?.words, ...(asked?.trail ? {} : { record_type: 'patron' }), limit: 50, ...(cursor ? { cursor } : {}) }),
  }), key);

  /** @param {Event} ev */
  function submit(ev) {
    ev.preventDefault();
    const problem = check(text);
    const found = problem ? [{ field: 'words', message: problem }] : !status.online ? [{ field: 'words', message: t('audit.needsNetwork') }] : [];
    setErrors(found);
    if (found.length) return;
    setAsked({ words: text.trim(), trail, n: (asked?.n ?? 0) + 1 });
  }

  const n = list.items.length;
  return html`<main id="main" class="audit audit-searches">
    <h1 tabindex="-1" ref=${heading}>${t('audit.searches.title')}</h1>
    <p class="lead">${t('audit.searches.lead')}</p>
    <${ErrorSummary} errors=${errors} prefix="who" labels=${{ words: t('audit.searches.words') }} />
    <form class="audit-search-form" onSubmit=${submit} novalidate data-testid="who-searched-form">
      <div class=${'field' + (errorFor(errors, 'words') ? ' has-error' : '')}>
        <label for="who-words">${t('audit.searches.words')}</label>
        <p class="hint" id="who-words-hint">${t('audit.searches.wordsHint')}</p>
        <${FieldMessage} id="who-words" message=${errorFor(errors, 'words')} />
        <input id="who-words" type="search" autocomplete="off" spellcheck=${false} maxlength="100" value=${text}
          aria-describedby=${[errorFor(errors, 'words') ? 'who-words-error' : '', 'who-words-hint'].filter(Boolean).join(' ')}
          onInput=${(/** @type {any} */ e) => setText(e.currentTarget.value)} />
      </div>
      <label class="check"><input id="who-trail" type="checkbox" checked=${trail} onChange=${(/** @type {any} */ e) => setTrail(e.currentTarget.checked)} /><span>${t('audit.searches.trail')}</span></label>
      <button class="primary" type="submit">${t('audit.searches.submit')}</button>
    </form>
    ${asked && html`<section aria-labelledby="who-results-title" class="audit-results">
      <h2 id="who-results-title">${t('audit.searches.results')}</h2>
      <${LoadNotice} state=${list.state} retry=${list.retry} />
      ${list.state === 'ready' && html`<p role="status" class="showing" data-testid="who-count">${n === 0 ? t('audit.searches.none') : list.next ? t('audit.searches.countMore', { n }) : n === 1 ? t('audit.searches.countOne') : t('audit.searches.count', { n })}</p>`}
      ${n > 0 && html`<ol class="list audit-hits">
        ${list.items.map((e) => html`<li class="item audit-hit" key=${e.id} data-testid="search-hit" data-actor=${e.actor_id ?? ''}>
          <div class="item-head">
            <strong>${staffName(dir.data, e.actor_id)}</strong>
            <${OutcomeBadge} outcome=${e.outcome} />
          </div>
          <dl class="facts">
            <div><dt>${t('audit.searches.when')}</dt><dd><${Time} iso=${e.recorded_at} /></dd></div>
            ${e.actor_role && html`<div><dt>${t('audit.searches.role')}</dt><dd>${roleLabel(e.actor_role)}</dd></div>`}
            ${e.actor_branches.length > 0 && html`<div><dt>${t('audit.searches.branches')}</dt><dd>${e.actor_branches.map((b) => branchName(dir.data, b)).join(', ')}</dd></div>`}
            ${e.record_type && html`<div><dt>${t('audit.searches.what')}</dt><dd>${typeLabel(e.record_type)}</dd></div>`}
            <div><dt>${t('audit.searches.found')}</dt><dd>${e.result_ids.length === 0
              ? t('audit.searches.foundNone')
              : html`${e.result_ids.length === 1 ? t('audit.searches.foundOne') : t('audit.searches.foundMany', { n: e.result_ids.length })}
                <ul class="audit-ids">${e.result_ids.map((id) => html`<li><${Id} id=${id} />${e.record_type === 'patron' && html` <${PatronLinks} id=${id} />`}</li>`)}</ul>`}</dd></div>
            <div><dt>${t('audit.searches.event')}</dt><dd><${Id} id=${e.id} /></dd></div>
          </dl>
        </li>`)}
      </ol>`}
      <${ShowMore} next=${list.next} moreState=${list.moreState} more=${list.more} />
    </section>`}
  </main>`;
}
