// Logging a contact: one screen, large targets, saved to the outbox at once.
import { useMemo, useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { copy } from '../lib/copy.js';
import { editContact, logContact } from '../lib/actions.js';
import { ErrorSummary, FieldMessage, errorFor, useFocusHeading } from './ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./ui.js').FieldError} FieldError */
/** @typedef {import('../lib/copy.js').Entry} Entry */

export const KINDS = /** @type {Schemas['ContactKind'][]} */ (['outreach', 'drop_in', 'follow_up', 'crisis']);
export const NEEDS = /** @type {Schemas['Need'][]} */ ([
  'housing', 'food', 'health', 'mental_health', 'substance_use', 'benefits',
  'employment', 'documents', 'legal', 'safety', 'child_and_family', 'other',
]);

/**
 * Whether a patron's name has a word starting with the query (case and accents ignored).
 * @param {any} patron
 * @param {string} query
 */
export function nameMatches(patron, query) {
  const fold = (/** @type {string} */ s) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const q = fold(query.trim());
  if (!q) return false;
  const words = fold(`${patron.preferred_name ?? ''} ${patron.legal_name ?? ''}`).split(/\s+/);
  return words.some((w) => w.startsWith(q));
}

/** @param {Date} d */
function localInput(d) {
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * A new contact; or, with `editing`, a change to one of the caller's own
 * contacts; with `fixing`, the correction of a rejected write.
 * @param {{fixing?: Entry, editing?: any, done?: () => void}} props
 */
export function LogContact({ fixing, editing, done }) {
  const target = editing ?? (fixing?.op.method === 'PATCH' ? copy.get('contact', fixing.op.id) : undefined);
  /** @type {Partial<Schemas['NewContactIn']>} */
  const start = { ...(target ?? {}), ...(fixing?.op.body ?? {}) };
  const branches = copy.branches;
  const [kind, setKind] = useState(start.kind ?? '');
  const [needs, setNeeds] = useState(/** @type {string[]} */ (start.needs ?? []));
  const [services, setServices] = useState((start.services_given ?? []).join('\n'));
  const [who, setWho] = useState(start.patron_id ? 'patron' : 'anonymous');
  const [patronId, setPatronId] = useState(start.patron_id ?? '');
  const [query, setQuery] = useState('');
  const [note, setNote] = useState(start.note ?? '');
  const [when, setWhen] = useState(start.occurred_at ? 'earlier' : 'now');
  const initialEarlier = start.occurred_at ? localInput(new Date(start.occurred_at)) : '';
  const [earlier, setEarlier] = useState(initialEarlier);
  const [branch, setBranch] = useState(start.branch_id ?? branches[0]?.id ?? copy.account?.branches[0] ?? '');
  const [errors, setErrors] = useState(/** @type {FieldError[]} */ (fixing?.op.problem?.errors ?? []));
  const [saved, setSaved] = useState('');
  const heading = useFocusHeading();

  const patrons = copy.all('patron');
  const matches = useMemo(() => patrons.filter((p) => nameMatches(p, query)).slice(0, 8), [query, patrons.length]);
  const chosen = patronId ? copy.get('patron', patronId) : null;

  /** @param {string} need */
  const toggleNeed = (need) => setNeeds(needs.includes(need) ? needs.filter((n) => n !== need) : [...needs, need]);

  /** @param {Event} ev */
  async function submit(ev) {
    ev.preventDefault();
    /** @type {FieldError[]} */
    const errs = [];
    if (!kind) errs.push({ field: 'kind', message: t('log.err.kind') });
    if (who === 'patron' && !patronId) errs.push({ field: 'patron_id', message: t('log.err.patron') });
    let occurred = new Date();
    if (when === 'earlier') {
      occurred = new Date(earlier);
      if (!earlier || isNaN(occurred.getTime()) || occurred.getTime() > Date.now() + 60_000) errs.push({ field: 'occurred_at', message: t('log.err.earlier') });
    }
    setErrors(errs);
    if (errs.length) return;
    /** @type {Omit<Schemas['NewContactIn'], 'id'>} */
    const fields = {
      branch_id: branch,
      kind: /** @type {Schemas['ContactKind']} */ (kind),
      needs: /** @type {Schemas['Need'][]} */ (needs),
      services_given: services.split('\n').map((s) => s.trim()).filter(Boolean),
      occurred_at: occurred.toISOString(),
    };
    if (who === 'patron') fields.patron_id = patronId;
    if (note.trim()) fields.note = note;
    if (target) {
      // Only what the person changed: an unchanged time keeps its seconds.
      if (when === 'earlier' && earlier === initialEarlier && start.occurred_at) fields.occurred_at = start.occurred_at;
      const { branch_id, ...all } = fields;
      /** @type {Record<string, unknown>} */
      const changes = {};
      for (const [k, v] of Object.entries(all)) if (JSON.stringify(v) !== JSON.stringify(target[k])) changes[k] = v;
      if (!Object.keys(changes).length) return setSaved(t('patron.nothing'));
      await editContact(target, /** @type {Schemas['ContactPatchIn']} */ (changes), fixing);
      if (done) return done();
      setSaved(t('log.savedEdit'));
      return;
    }
    await logContact(fields, fixing);
    if (done) return done();
    setKind(''); setNeeds([]); setServices(''); setWho('anonymous'); setPatronId(''); setQuery('');
    setNote(''); setWhen('now'); setEarlier('');
    setSaved(t('log.saved'));
    heading.current?.focus();
  }

  const labels = { kind: t('log.kind'), needs: t('log.needs'), services_given: t('log.services'), patron_id: t('log.who'), note: t('log.note'), occurred_at: t('log.when'), branch_id: t('log.branch') };
  const err = (/** @type {string} */ f) => errorFor(errors, f);
  const cls = (/** @type {string} */ f) => 'field' + (err(f) ? ' has-error' : '');

  return html`<main id="main" class="form-screen">
    <h1 tabindex="-1" ref=${heading}>${fixing ? t('log.fixTitle') : target ? t('log.editTitle') : t('log.title')}</h1>
    ${saved && html`<p class="confirmation" role="status">${saved}</p>`}
    <${ErrorSummary} errors=${errors} prefix="log" labels=${labels} />
    <form onSubmit=${submit} novalidate>
      <fieldset class=${cls('kind')} id="log-kind" tabindex="-1">
        <legend>${t('log.kind')}</legend>
        <${FieldMessage} id="log-kind" message=${err('kind')} />
        <div class="toggles">
          ${KINDS.map((k) => html`<label class="toggle"><input type="radio" name="kind" value=${k} checked=${kind === k}
            onChange=${() => { setKind(k); setSaved(''); }} /><span>${t('kind.' + k)}</span></label>`)}
        </div>
      </fieldset>
      <fieldset class=${cls('needs')} id="log-needs" tabindex="-1" aria-describedby="log-needs-hint">
        <legend>${t('log.needs')}</legend>
        <p class="hint" id="log-needs-hint">${t('log.needsHint')}</p>
        <${FieldMessage} id="log-needs" message=${err('needs')} />
        <div class="toggles">
          ${NEEDS.map((n) => html`<label class="toggle"><input type="checkbox" name="needs" value=${n} checked=${needs.includes(n)}
            onChange=${() => toggleNeed(n)} /><span>${t('need.' + n)}</span></label>`)}
        </div>
      </fieldset>
      <div class=${cls('services_given')}>
        <label for="log-services_given">${t('log.services')}</label>
        <p class="hint" id="log-services-hint">${t('log.servicesHint')}</p>
        <${FieldMessage} id="log-services_given" message=${err('services_given')} />
        <textarea id="log-services_given" rows="2" aria-describedby="log-services-hint" value=${services}
          onInput=${(/** @type {any} */ e) => setServices(e.currentTarget.value)}></textarea>
      </div>
      <fieldset class=${cls('patron_id')}>
        <legend>${t('log.who')}</legend>
        <${FieldMessage} id="log-patron_id" message=${err('patron_id')} />
        <div class="toggles">
          <label class="toggle"><input type="radio" name="who" value="anonymous" checked=${who === 'anonymous'} onChange=${() => setWho('anonymous')} /><span>${t('log.anonymous')}</span></label>
          <label class="toggle"><input type="radio" name="who" value="patron" checked=${who === 'patron'} onChange=${() => setWho('patron')} /><span>${t('log.aPatron')}</span></label>
        </div>
        ${who === 'patron' && (chosen
          ? html`<p class="chosen">${t('log.chosen', { name: chosen.preferred_name })}
              <button type="button" class="secondary" onClick=${() => { setPatronId(''); setQuery(''); }}>${t('log.change')}</button></p>`
          : html`<div class="field">
              <label for="log-patron_id">${t('log.findPatron')}</label>
              <p class="hint" id="log-find-hint">${t('log.findHint')}</p>
              <input id="log-patron_id" type="search" autocomplete="off" aria-describedby="log-find-hint" value=${query}
                onInput=${(/** @type {any} */ e) => setQuery(e.currentTarget.value)} />
              ${query.trim() && (matches.length
                ? html`<ul class="matches">${matches.map((p) => html`<li><button type="button" class="secondary" onClick=${() => setPatronId(p.id)}
                    aria-label=${t('log.choose', { name: p.preferred_name })}>${p.preferred_name}${p.birth_year ? ` (${p.birth_year})` : ''}</button></li>`)}</ul>`
                : html`<p class="hint" role="status">${t('log.noMatch')}</p>`)}
            </div>`)}
      </fieldset>
      <div class=${cls('note')}>
        <label for="log-note">${t('log.note')}</label>
        <p class="hint" id="log-note-hint">${t('log.noteHint', { n: [...note].length })}</p>
        <${FieldMessage} id="log-note" message=${err('note')} />
        <textarea id="log-note" rows="3" aria-describedby="log-note-hint" value=${note}
          onInput=${(/** @type {any} */ e) => setNote(e.currentTarget.value)}></textarea>
      </div>
      <fieldset class=${cls('occurred_at')}>
        <legend>${t('log.when')}</legend>
        <div class="toggles">
          <label class="toggle"><input type="radio" name="when" value="now" checked=${when === 'now'} onChange=${() => setWhen('now')} /><span>${t('log.now')}</span></label>
          <label class="toggle"><input type="radio" name="when" value="earlier" checked=${when === 'earlier'}
            onChange=${() => { setWhen('earlier'); if (!earlier) setEarlier(localInput(new Date())); }} /><span>${t('log.earlier')}</span></label>
        </div>
        <${FieldMessage} id="log-occurred_at" message=${err('occurred_at')} />
        ${when === 'earlier' && html`<div class="field">
          <label for="log-occurred_at">${t('log.earlierAt')}</label>
          <input id="log-occurred_at" type="datetime-local" value=${earlier} max=${localInput(new Date())}
            onInput=${(/** @type {any} */ e) => setEarlier(e.currentTarget.value)} />
        </div>`}
      </fieldset>
      ${!target && branches.length > 1 && html`<div class=${cls('branch_id')}>
        <label for="log-branch_id">${t('log.branch')}</label>
        <select id="log-branch_id" value=${branch} onChange=${(/** @type {any} */ e) => setBranch(e.currentTarget.value)}>
          ${branches.map((b) => html`<option value=${b.id}>${b.name}</option>`)}
        </select>
      </div>`}
      <button class="primary" type="submit">${fixing ? t('log.saveFix') : target ? t('log.saveEdit') : t('log.save')}</button>
    </form>
  </main>`;
}
