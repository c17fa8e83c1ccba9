// The staff directory (names for the ids records carry), fetched when online
// and kept in memory only: it is the directory every role may read, not
// casework, and the app never needs it to work.
import { api } from './api.js';
import { copy } from './copy.js';
import { t } from './t.js';

/** @typedef {import('../types/app').Schemas} Schemas */

/** @type {Map<string, Schemas['StaffOut']>} */
let people = new Map();
/** @type {Promise<void> | null} */
let loading = null;
let loaded = false;
/** When the last try failed (ms): the next waits a little. */
let failedAt = 0;

/**
 * A staff member's display name, "you" for the caller, or a placeholder while unknown.
 * @param {string | undefined | null} id
 */
export function staffName(id) {
  if (!id) return '';
  if (id === copy.account?.staff_id) return t('staff.you');
  return people.get(id)?.display_name ?? t('staff.unknown');
}

/** The directory as loaded (empty until the first load). */
export function staffList() {
  return [...people.values()].filter((s) => s.active);
}

/** Whether the directory has been loaded in this session. */
export function staffLoaded() {
  return loaded;
}

/** Loads the directory once per session (every page of it); quiet when offline. */
export function loadStaff() {
  if (loaded || Date.now() - failedAt < 30_000) return loading ?? Promise.resolve();
  loading ??= (async () => {
    try {
      /** @type {Map<string, Schemas['StaffOut']>} */
      const next = new Map();
      /** @type {string | undefined} */
      let cursor;
      do {
        /** @type {{limit: number, cursor?: string}} */
        const query = { limit: 200 };
        if (cursor) query.cursor = cursor;
        const page = await api('get', '/v1/staff', { query });
        for (const s of page.items) next.set(s.id, s);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      people = next;
      loaded = true;
      copy.changed();
    } catch {
      // Offline or refused: names show as unknown until the next try.
      failedAt = Date.now();
    } finally {
      loading = null;
    }
  })();
  return loading;
}

/** Forgets the directory (sign-out). */
export function forgetStaff() {
  people = new Map();
  loaded = false;
  failedAt = 0;
}
