// What the auditors' screens share: loading from the server (online only,
// nothing kept: every answer lives in the screen's memory and goes with it),
// the staff directory and branches for names, times, the enums of the trail,
// and the table of events.
import { useEffect, useRef, useState } from '../vendor/hooks.mjs';
import { Fragment } from '../vendor/preact.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api, ApiError } from '../lib/api.js';
import { status } from '../lib/sync.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {Schemas['AuditEventOut']} AuditEvent */
/** @typedef {Schemas['StaffOut']} Staff */
/** @typedef {Schemas['BranchOut']} Branch */
/** @typedef {'idle' | 'loading' | 'ready' | 'offline' | 'failed'} LoadState */
/** @typedef {{staff: Map<string, Staff>, branches: Map<string, Branch>, staffList: Staff[], branchList: Branch[]}} Directory */

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The trail's enums (openapi: Action, Outcome, RecordKind, Role, AnomalyKindIn). */
export const ACTIONS = ['create', 'read', 'update', 'delete', 'search', 'export', 'login', 'login_failed', 'logout', 'refresh', 'revoke', 'transition', 'break_glass', 'verify', 'sync'];
export const OUTCOMES = ['allowed', 'denied', 'error'];
export const RECORD_TYPES = ['patron', 'contact', 'case', 'case_note', 'consent', 'follow_up', 'service', 'referral', 'mandated_report', 'incident', 'incident_amendment', 'suspension', 'support_request', 'training', 'certification', 'rule', 'break_glass', 'branch', 'staff', 'session', 'audit_event'];
export const ROLES = ['peer', 'social_worker', 'supervisor', 'staff', 'security', 'auditor', 'admin'];
/** The purposes of use the server records (`audit::purpose_of_use`). */
export const PURPOSES = ['mandated_reporting'];
export const ANOMALY_KINDS = ['denied_by_actor', 'many_patrons_in_a_day', 'outside_branches', 'failed_sign_ins_by_account', 'failed_sign_ins_by_address', 'break_glass_unreviewed'];

/** A catalogue label for an enum value, or the value itself when the catalogue has none. */
export function label(/** @type {string} */ prefix, /** @type {string | undefined} */ value) {
  if (!value) return '';
  const text = t(prefix + value);
  return text === prefix + value ? value : text;
}
export const actionLabel = (/** @type {string | undefined} */ v) => label('audit.action.', v);
export const outcomeLabel = (/** @type {string | undefined} */ v) => label('audit.outcome.', v);
export const typeLabel = (/** @type {string | undefined} */ v) => label('audit.type.', v);
export const roleLabel = (/** @type {string | undefined} */ v) => label('role.', v);
export const purposeLabel = (/** @type {string | undefined} */ v) => label('audit.purpose.', v);

/** A time as the auditor reads it (to the second, in the device's zone). */
export function when(/** @type {string} */ iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString([], { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** @param {{iso: string}} props */
export function Time({ iso }) {
  return html`<time datetime=${iso}>${when(iso)}</time>`;
}

/** A `datetime-local` value as RFC 3339 (UTC), or undefined when empty or not a time. */
export function isoOf(/** @type {string} */ local) {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
/** RFC 3339 as a `datetime-local` value in the device's zone. */
export function localOf(/** @type {string | undefined} */ iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Every staff account, page by page, and the branches (names for the ids the trail holds). */
export async function loadDirectory() {
  /** @type {Staff[]} */
  const staffList = [];
  /** @type {string | undefined} */
  let cursor;
  const branchesP = api('get', '/v1/branches');
  do {
    /** @type {{limit: number, cursor?: string}} */
    const query = { limit: 200 };
    if (cursor) query.cursor = cursor;
    const page = await api('get', '/v1/staff', { query });
    staffList.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  const branchList = (await branchesP).items;
  /** @type {Directory} */
  const dir = {
    staff: new Map(staffList.map((s) => [s.id, s])),
    branches: new Map(branchList.map((b) => [b.id, b])),
    staffList: [...staffList].sort((a, b) => a.display_name.localeCompare(b.display_name)),
    branchList,
  };
  return dir;
}

/** @param {Directory | undefined} dir @param {string | undefined} id */
export function staffName(dir, id) {
  if (!id) return t('audit.noActor');
  return dir?.staff.get(id)?.display_name ?? t('audit.unknownStaff');
}
/** @param {Directory | undefined} dir @param {string} id */
export function branchName(dir, id) {
  return dir?.branches.get(id)?.name ?? id;
}

/** @param {unknown} e @returns {LoadState} */
const failureOf = (e) => (e instanceof ApiError && e.offline ? 'offline' : 'failed');

/**
 * Data only the server has, loaded when the screen opens or `key` changes
 * (`key` null: nothing asked yet), and again when the network comes back.
 * It lives in the screen's memory only.
 * @template T
 * @param {() => Promise<T>} load
 * @param {string | null} key
 */
export function useLoad(load, key) {
  const [s, set] = useState(/** @type {{state: LoadState, data: T | undefined, key: string | null, error?: unknown}} */ ({ state: key === null ? 'idle' : 'loading', data: undefined, key }));
  const [attempt, setAttempt] = useState(0);
  const online = status.online;
  useEffect(() => {
    if (key === null) {
      set({ state: 'idle', data: undefined, key });
      return;
    }
    if (!online) {
      set((prev) => (prev.key === key && prev.state === 'ready' ? prev : { state: 'offline', data: undefined, key }));
      return;
    }
    let live = true;
    set((prev) => (prev.key === key && prev.state === 'ready' ? prev : { state: 'loading', data: undefined, key }));
    load().then(
      (data) => { if (live) set({ state: 'ready', data, key }); },
      (e) => { if (live) set({ state: failureOf(e), data: undefined, key, error: e }); },
    );
    return () => { live = false; };
  }, [key, attempt, online]);
  const same = s.key === key;
  return {
    state: same ? s.state : key === null ? 'idle' : 'loading',
    data: same ? s.data : undefined,
    error: same ? s.error : undefined,
    retry: () => setAttempt((n) => n + 1),
    /** @param {T} data */
    replace: (data) => set({ state: 'ready', data, key }),
  };
}

/**
 * A list the server gives a page at a time, oldest first: the first page
 * when `key` changes, the next on "Show more".
 * @template I
 * @param {(cursor: string | undefined) => Promise<{items: I[], next_cursor?: string}>} loadPage
 * @param {string | null} key
 */
export function usePaged(loadPage, key) {
  const first = useLoad(() => loadPage(undefined), key);
  // The pages after the first, for the first page they follow (a new first page starts again).
  const [extra, setExtra] = useState(/** @type {{base: unknown, items: I[], next: string | undefined, state: LoadState}} */ ({ base: null, items: [], next: undefined, state: 'idle' }));
  const mine = first.data !== undefined && extra.base === first.data;
  const items = first.data ? [...first.data.items, ...(mine ? extra.items : [])] : [];
  const next = mine ? extra.next : first.data?.next_cursor;
  async function more() {
    if (!next || !first.data) return;
    const base = first.data;
    const had = mine ? extra.items : [];
    setExtra({ base, items: had, next, state: 'loading' });
    try {
      const page = await loadPage(next);
      setExtra({ base, items: [...had, ...page.items], next: page.next_cursor, state: 'ready' });
    } catch (e) {
      setExtra({ base, items: had, next, state: failureOf(e) });
    }
  }
  return { state: first.state, retry: first.retry, items, next, more, moreState: mine ? extra.state : /** @type {LoadState} */ ('idle') };
}

/** @param {{state: LoadState, retry: () => void}} props */
export function LoadNotice({ state, retry }) {
  if (state === 'loading') return html`<p class="muted" role="status">${t('audit.loading')}</p>`;
  if (state === 'offline') {
    return html`<div class="notice needs-network audit-offline" role="status" data-testid="needs-network"><p>${t('audit.needsNetwork')}</p>
      ${status.online && html`<button type="button" class="secondary small" onClick=${retry}>${t('audit.retry')}</button>`}</div>`;
  }
  if (state === 'failed') {
    return html`<div class="notice audit-failed" role="alert"><p>${t('audit.failed')}</p>
      <button type="button" class="secondary small" onClick=${retry}>${t('audit.retry')}</button></div>`;
  }
  return null;
}

/** The "Show more" of a paged list. @param {{next: string | undefined, moreState: LoadState, more: () => void}} props */
export function ShowMore({ next, moreState, more }) {
  if (!next) return null;
  return html`<div class="audit-more">
    ${moreState === 'offline' && html`<p class="field-error" role="alert">${t('audit.needsNetwork')}</p>`}
    ${moreState === 'failed' && html`<p class="field-error" role="alert">${t('audit.failed')}</p>`}
    <button type="button" class="secondary" onClick=${more} disabled=${moreState === 'loading'}>${moreState === 'loading' ? t('audit.loadingMore') : t('audit.showMore')}</button>
  </div>`;
}

/** An id, set in a monospace face and wrapped anywhere. @param {{id: string | undefined}} props */
export function Id({ id }) {
  if (!id) return html`<span class="muted">${t('audit.none')}</span>`;
  return html`<code class="audit-id">${id}</code>`;
}

/** A hash route to the access log with these filters (values are ids, enums and times: never names). */
export function logLink(/** @type {Record<string, string | undefined>} */ filters) {
  const parts = Object.entries(filters).filter(([, v]) => v).map(([k, v]) => `${k}/${encodeURIComponent(/** @type {string} */ (v))}`);
  return '#/audit' + (parts.length ? '/' + parts.join('/') : '');
}

/** Links from a patron's id to the trail about them. @param {{id: string}} props */
export function PatronLinks({ id }) {
  return html`<span class="patron-links">
    <a href=${'#/audit-disclosures/' + id}>${t('audit.link.disclosures')}<span class="visually-hidden"> ${t('audit.link.ofPatron', { id })}</span></a>
    <a href=${logLink({ patron: id })}>${t('audit.link.log')}<span class="visually-hidden"> ${t('audit.link.ofPatron', { id })}</span></a>
  </span>`;
}

/** The details of one event, as terms and values. @param {{e: AuditEvent, dir: Directory | undefined}} props */
function EventDetails({ e, dir }) {
  /** @param {string} key @param {any} value */
  const row = (key, value) => html`<div><dt>${t(key)}</dt><dd>${value}</dd></div>`;
  const list = (/** @type {string[]} */ xs) => (xs.length ? xs.join(', ') : html`<span class="muted">${t('audit.none')}</span>`);
  return html`<dl class="facts audit-facts">
    ${row('audit.ev.seq', String(e.seq))}
    ${row('audit.ev.id', html`<${Id} id=${e.id} />`)}
    ${row('audit.ev.recorded', html`<${Time} iso=${e.recorded_at} />`)}
    ${e.occurred_at && row('audit.ev.occurred', html`<${Time} iso=${e.occurred_at} />`)}
    ${row('audit.ev.actorId', html`<${Id} id=${e.actor_id} />`)}
    ${row('audit.ev.branches', list(e.actor_branches.map((b) => branchName(dir, b))))}
    ${row('audit.ev.rule', html`<code>${e.rule}</code>`)}
    ${row('audit.ev.purpose', e.purpose ? purposeLabel(e.purpose) : html`<span class="muted">${t('audit.none')}</span>`)}
    ${row('audit.ev.recordId', html`<${Id} id=${e.record_id} />`)}
    ${row('audit.ev.fields', list(e.fields))}
    ${e.result_ids.length > 0 && row('audit.ev.results', html`<ul class="audit-ids">${e.result_ids.map((id) => html`<li><${Id} id=${id} /></li>`)}</ul>`)}
    ${e.query && row('audit.ev.query', html`<code class="audit-query">${e.query}</code>`)}
    ${row('audit.ev.session', html`<${Id} id=${e.session_id} />`)}
    ${e.request_id && row('audit.ev.request', html`<code>${e.request_id}</code>`)}
    ${e.client_addr && row('audit.ev.address', html`<code>${e.client_addr}</code>`)}
    ${row('audit.ev.prevHash', html`<code class="audit-id">${e.prev_hash}</code>`)}
    ${row('audit.ev.hash', html`<code class="audit-id">${e.hash}</code>`)}
  </dl>`;
}

/** @param {{outcome: string}} props */
export function OutcomeBadge({ outcome }) {
  return html`<span class=${'badge audit-outcome audit-outcome-' + outcome}>${outcomeLabel(outcome)}</span>`;
}

/**
 * Events in a table (stacked on a phone), each with its details on demand.
 * @param {{events: AuditEvent[], dir: Directory | undefined, caption: string, testid?: string}} props
 */
export function EventTable({ events, dir, caption, testid = 'events' }) {
  const [open, setOpen] = useState(/** @type {Set<string>} */ (new Set()));
  const toggle = (/** @type {string} */ id) => setOpen((prev) => {
    const next = new Set(prev);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    return next;
  });
  return html`<table class="data audit-events" data-testid=${testid}>
    <caption class="visually-hidden">${caption}</caption>
    <thead><tr>
      <th scope="col">${t('audit.col.when')}</th>
      <th scope="col">${t('audit.col.who')}</th>
      <th scope="col">${t('audit.col.action')}</th>
      <th scope="col">${t('audit.col.record')}</th>
      <th scope="col">${t('audit.col.patron')}</th>
      <th scope="col">${t('audit.col.outcome')}</th>
      <th scope="col"><span class="visually-hidden">${t('audit.col.details')}</span></th>
    </tr></thead>
    <tbody>${events.map((e) => {
      const shown = open.has(e.id);
      return html`<${Fragment} key=${e.id}>
        <tr data-testid="event" data-id=${e.id} data-action=${e.action} data-record=${e.record_id ?? ''} class=${shown ? 'open' : ''}>
          <th scope="row" data-label=${t('audit.col.when')}><${Time} iso=${e.recorded_at} /></th>
          <td data-label=${t('audit.col.who')}><span class="who-name">${staffName(dir, e.actor_id)}</span>${e.actor_role && html`<span class="muted who-role">${roleLabel(e.actor_role)}</span>`}</td>
          <td data-label=${t('audit.col.action')}>${actionLabel(e.action)}</td>
          <td data-label=${t('audit.col.record')}>${e.record_type ? typeLabel(e.record_type) : html`<span class="muted">${t('audit.none')}</span>`}${e.record_id && html`<br /><${Id} id=${e.record_id} />`}</td>
          <td data-label=${t('audit.col.patron')}>${e.patron_id ? html`<${Id} id=${e.patron_id} /><br /><${PatronLinks} id=${e.patron_id} />` : html`<span class="muted">${t('audit.none')}</span>`}</td>
          <td data-label=${t('audit.col.outcome')}><${OutcomeBadge} outcome=${e.outcome} /></td>
          <td class="details-cell">
            <button type="button" class="secondary small" aria-expanded=${shown ? 'true' : 'false'} aria-controls=${shown ? 'ev-' + e.id : undefined} onClick=${() => toggle(e.id)}>
              ${shown ? t('audit.lessDetails') : t('audit.moreDetails')}<span class="visually-hidden"> ${t('audit.ofEvent', { seq: e.seq })}</span>
            </button>
          </td>
        </tr>
        ${shown && html`<tr class="event-details" id=${'ev-' + e.id} data-testid="event-details"><td colspan="7"><${EventDetails} e=${e} dir=${dir} /></td></tr>`}
      <//>`;
    })}</tbody>
  </table>`;
}

/**
 * The server's refusal of a form as field messages (the fields a problem names that the form has; else the first field).
 * @param {unknown} e
 * @param {string} first the field a general message goes to
 * @param {string[]} fields
 * @returns {{field: string, message: string}[]}
 */
export function refusal(e, first, fields) {
  if (!(e instanceof ApiError)) return [{ field: first, message: t('audit.failed') }];
  if (e.offline) return [{ field: first, message: t('audit.needsNetwork') }];
  if (e.status === 403) return [{ field: first, message: t('audit.err.forbidden') }];
  const named = (e.problem.errors ?? []).filter((x) => fields.includes(x.field.split('/')[0]));
  if (named.length) {
    return named.map((x) => {
      const field = x.field.split('/')[0];
      const ours = t('audit.err.field.' + field);
      return { field, message: ours === 'audit.err.field.' + field ? x.message : ours };
    });
  }
  return [{ field: first, message: e.problem.detail ? `${t('audit.err.refused')} ${e.problem.detail}` : t('audit.err.refused') }];
}

/** Focus moves to an element when `when` becomes true (a confirmation, a result). */
export function useFocusWhen(/** @type {unknown} */ when) {
  const ref = useRef(/** @type {HTMLElement | null} */ (null));
  useEffect(() => {
    if (when) ref.current?.focus();
  }, [when]);
  return ref;
}
